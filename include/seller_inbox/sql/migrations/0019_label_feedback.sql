-- Feedback from the desk (docs/taxonomy.md "Feedback from the desk"): a person's correction of
-- a message's intent or risk in the UI, and drafts an approver rewrote heavily, kept as labelled
-- examples (redacted text) that `seller-inbox classify feedback export` / `classify train
-- --with-feedback` turn into training data. Written by seller_inbox.classify.feedback; the
-- corrected label itself goes into core.message through seller_inbox.mail.messages.

ALTER TABLE core.message
    ADD COLUMN labelled_by text,
    ADD COLUMN labelled_at timestamptz;
COMMENT ON COLUMN core.message.labelled_by IS 'Airflow user who corrected intent/risk in the UI; the classifier never overwrites such a row (the model''s label is kept in core.label_feedback.old_intent / old_risk)';
COMMENT ON COLUMN core.message.labelled_at IS 'when a person last corrected intent/risk (NULL: the labels are the classifier''s)';

-- No foreign key to core.message: a data-quality gate may set a message aside (delete it from
-- core.message); the example keeps its own redacted copy of the text.
CREATE TABLE core.label_feedback (
    id                 bigserial   PRIMARY KEY,
    store_id           text        NOT NULL,
    message_id         text        NOT NULL,
    source             text        NOT NULL CHECK (source IN ('ui_correction', 'draft_edit')),
    old_intent         text,
    old_risk           text,
    new_intent         text        NOT NULL,
    new_risk           text        NOT NULL CHECK (new_risk IN ('low', 'medium', 'high')),
    confirmed          boolean     NOT NULL,
    language           text,
    marketplace        text,
    kind               text,
    text_redacted      text        NOT NULL,
    classifier_version text,
    template           text,
    draft_similarity   real        CHECK (draft_similarity BETWEEN 0 AND 1),
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX label_feedback_message ON core.label_feedback (store_id, message_id, created_at);

COMMENT ON TABLE core.label_feedback IS 'Labelled examples from the desk: a person''s intent/risk correction (ui_correction) or a draft an approver rewrote heavily (draft_edit); append-only';
COMMENT ON COLUMN core.label_feedback.source IS 'ui_correction: a person set intent/risk on the message page; draft_edit: an approver changed a draft to under 0.5 word similarity before approving';
COMMENT ON COLUMN core.label_feedback.old_intent IS 'the message''s intent before (the classifier''s, or an earlier correction)';
COMMENT ON COLUMN core.label_feedback.old_risk IS 'the message''s risk before';
COMMENT ON COLUMN core.label_feedback.new_intent IS 'the label of the example: what the person chose (ui_correction) or the message''s intent when the draft was approved (draft_edit)';
COMMENT ON COLUMN core.label_feedback.new_risk IS 'the risk of the example, as new_intent';
COMMENT ON COLUMN core.label_feedback.confirmed IS 'true when a person set the label (every ui_correction; a draft_edit only on a message a person had corrected): only confirmed examples are trained on';
COMMENT ON COLUMN core.label_feedback.language IS 'the message''s language (ISO 639-1) when recorded';
COMMENT ON COLUMN core.label_feedback.text_redacted IS 'the buyer''s words (core.message.body_text, or the subject when empty) redacted again, capped at 4,000 chars';
COMMENT ON COLUMN core.label_feedback.classifier_version IS 'the classifier version that had labelled the message';
COMMENT ON COLUMN core.label_feedback.template IS 'draft_edit: the reply template of the rewritten draft';
COMMENT ON COLUMN core.label_feedback.draft_similarity IS 'draft_edit: word similarity of the approved text to the draft (delivery.shadow.similarity)';
COMMENT ON COLUMN core.label_feedback.created_by IS 'the Airflow user name';
