-- Column comments point to the project's own docs (docs/taxonomy.md).
COMMENT ON COLUMN core.message.intent IS 'intent (one of 15, docs/taxonomy.md), by precedence when a message asks several things';
COMMENT ON COLUMN core.message.risk IS 'high / medium / low (docs/taxonomy.md: intent floor, multilingual risk lexicon, shouting)';
