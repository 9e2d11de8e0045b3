"""Review manipulation (docs/templates.md, "What the linter blocks"): asking only for positive
reviews (including "if you're happy, a review would mean a lot" and "contact us before leaving
a review"), incentives for a review, and asking to change or remove one.

A neutral request for an honest review is allowed, and so is mentioning reviews or ratings in
passing ("the tent has a 5 star rating"): every rule needs a review word together with what
makes it manipulation, in the same sentence (incentives: also the sentence before or after).
English "review" counts only as a noun ("we will review your refund" is not about reviews).
"""

from __future__ import annotations

from seller_inbox.compliance.message import Message, words

_EN_REVIEW = (r"\b(?=reviews?\b)(?<!\bwe )(?<!\bi )(?<!will )(?<!'ll )(?<!’ll )(?<!\bto )(?<!\bcan )(?<!must )"
              r"(?<!ould )(?<!ease )(?<!\band )\breviews?\b")
_FR_AVIS = r"\bavis\b(?! d['’e ]\s?(?:passage|expédition|livraison|réception))"
REVIEW = words(
    _EN_REVIEW, r"\bfeedback\b", r"\bratings?\b", r"\bstars?\b",
    r"\bbewertung(?:en)?\b", r"\brezension(?:en)?\b", r"\bsternen?\b", r"\bsterne\b",
    _FR_AVIS, r"\bcommentaires?\b", r"\bévaluations?\b", r"\bétoiles?\b",
    r"\brecension[ie]\b", r"\bvalutazion[ei]\b", r"\bstell[ae]\b",
    r"\breseñas?\b", r"\bvaloraci[oó]n(?:es)?\b", r"\bopini[oó]n(?:es)?\b", r"\bcalificaci[oó]n(?:es)?\b",
    r"\bestrellas?\b",
    r"\bbeoordeling(?:en)?\b", r"\brecensies?\b", r"\bsterren\b",
    r"レビュー|評価|口コミ|クチコミ|星[1-5]|★",
    r"评价|好评|差评|中评|评论|五星|星级|晒单",
)
# a positive review named as such (the review word is part of the phrase)
POSITIVE = words(
    r"\b(?:positive|good|great|glowing|nice|excellent|favou?rable|perfect|top|best|5|five)[- ](?:star[- ])?"
    r"(?:reviews?|feedback|ratings?)\b", r"\b(?:5|five)[- ]stars?\b", r"\b5/5\b", r"\bfull marks\b",
    r"\b(?:positive?n?|gute?n?|tolle?n?|beste?n?|hervorragende?n?)\s+(?:bewertung(?:en)?|rezension(?:en)?|feedback|kritiken?)\b",
    r"\b(?:5|fünf)[- ]?sterne(?:n|-bewertung)?\b", r"\bvolle punktzahl\b",
    r"\b(?:avis|commentaires?|évaluations?|notes?)\s+(?:très\s+)?(?:positi(?:f|ve)s?|favorables?|excellente?s?|élogieu(?:x|se)s?)\b",
    r"\b(?:bon|bonne|excellent|excellente|meilleure?)\s+(?:avis|commentaire|évaluation|note)\b", r"\b(?:5|cinq)\s+étoiles\b",
    r"\b(?:recension[ie]|valutazion[ei]|feedback)\s+(?:molto\s+)?(?:positiv[aeio]|ottim[aeio]|favorevol[ei]|eccellent[ei])\b",
    r"\b(?:buon[aoe]?|ottim[aoe]|bella|bellissima)\s+(?:recension[ie]|valutazion[ei])\b", r"\b(?:5|cinque)\s+stelle\b",
    r"\b(?:reseñas?|valoraci[oó]n(?:es)?|opini[oó]n(?:es)?|comentarios?|calificaci[oó]n(?:es)?)\s+(?:muy\s+)?"
    r"(?:positiv[ao]s?|favorables?|excelentes?|buen[ao]s?)\b",
    r"\b(?:buen[ao]s?|excelentes?|mejor)\s+(?:reseñas?|valoraci[oó]n|opini[oó]n|calificaci[oó]n)\b", r"\b(?:5|cinco)\s+estrellas\b",
    r"\b(?:positieve?|goede?)\s+(?:review|beoordeling|recensie)s?\b", r"\b(?:5|vijf)\s+sterren\b",
    r"星5|★5|★★★★★|五つ星|5つ星|星を?5つ|高評価|良い評価|よい評価|いい評価|好評価|高い評価|最高評価|満点",
    r"好评|五星|5星|五分|满分|高分|好的评价",
)
# the writer asks for something
CUE = words(
    r"\b(?:please|pls|leave|write|post|give us|share|rate us|consider|appreciate|would mean|means a lot|would love|"
    r"we'd love|would help|help us|kindly|could you|can you|would you|don't forget|do not forget|remember to|"
    r"take a (?:moment|minute|second)|tell (?:others|everyone|your friends))\b",
    r"\b(?:bitte|hinterlass\w*|schreib\w*|geben sie|vergeben sie|würden? (?:uns|mich)|freuen uns|dankbar|helfen sie|"
    r"hilft uns|könnten sie|würden sie|nehmen sie sich|teilen sie|lassen sie)\b",
    r"\b(?:merci de|s'il vous pla[iî]t|svp|laiss\w*|donn\w*|écri\w*|partag\w*|pourriez|pouvez-vous|ferait plaisir|"
    r"apprécierions|serait (?:très )?apprécié|aimerions|n'hésitez pas|prenez)\b",
    r"\b(?:per favore|la preghiamo|lasci\w*|scriv\w*|dar(?:ci|e)|dia|condivid\w*|potrebbe|sarebbe|farebbe piacere|"
    r"gradiremmo|apprezzeremmo|non esiti|ci aiuti)\b",
    r"\b(?:por favor|d[eé]j\w*|escrib\w*|dar(?:nos)?|compart\w*|podría|agradecer\w*|nos ayudar\w*|sería|no dude|ayúdanos)\b",
    r"\b(?:alstublieft|graag|laat|schrijf|geef|zouden het waarderen|help ons)\b",
    r"お願い|ください|下さい|いただけ|頂け|ませんか|ぜひ|是非|幸いです|嬉し|うれし|助かり|投稿して|書いて|つけて|付けて",
    r"请|麻烦|给|帮|求|希望|能否|可以|留|点个|打个|写|发个",
)
# "if you are happy / satisfied ..."
SATISFIED = words(
    r"\bif (?:you(?:'re|’re| are| were)?|u) (?:\w+ ){0,3}?(?:happy|satisfied|pleased|delighted|enjoy\w*|like|love|content)\b",
    r"\b(?:happy|satisfied|pleased) with (?:your|the) (?:purchase|order|product|item)\?",  # a question
    r"\b(?:wenn|falls|sofern) (?:sie|du|ihnen|dir) (?:\w+ ){0,4}?(?:zufrieden|gefällt|gefallen|freude)\b",
    r"\bsi (?:vous|tu) (?:\w+ ){0,3}?(?:satisfaite?s?|contente?s?|ravie?s?|aimez|appréciez|aimes)\b",
    r"\bsi (?:le|la|l'|ce|cet|cette)\s?\w* vous (?:plaît|a plu|convient)\b",
    r"\bse (?:è|e'|sei|siete|è rimast[oa]|ne è) (?:\w+ ){0,2}?(?:soddisfatt\w|content\w)\b", r"\bse (?:le|ti|vi) (?:è )?piac\w*",
    r"\bsi (?:está|estás|están|quedó|ha quedado|queda|se siente) (?:\w+ ){0,2}?(?:satisfech\w|content\w|feliz)\b",
    r"\bsi le (?:ha )?gust\w*",
    r"\b(?:als|indien) (?:u|je) (?:\w+ ){0,3}?tevreden\b",
    r"満足(?:いただけ|頂け|して|され|でした|であれば|なら)|気に入って(?:いただけ|頂け|もらえ)|お気に召し",
    r"满意的话|如果(?:您|你)?(?:对\S{0,10})?满意|若(?:您)?满意|喜欢的话|如果(?:您|你)?喜欢",
)
# "contact us before leaving a review": only unhappy buyers are kept away from reviews
GATING = words(
    r"\b(?:before|instead of|rather than) (?:\w+ ){0,2}?(?:leaving|writing|posting|giving|submitting)\b",
    r"\bcontact us first\b",
    r"\bbevor sie\b", r"\b(?:anstatt|statt)\b", r"\bzuerst (?:an uns|kontakt)",
    r"\bavant de (?:laisser|donner|écrire|publier|poster)\b", r"\bau lieu de\b", r"\bcontactez-nous d'abord\b",
    r"\bprima di (?:lasciare|scrivere|dare|pubblicare)\b", r"\binvece di\b",
    r"\bantes de (?:dejar|escribir|dar|publicar)\b", r"\ben (?:lugar|vez) de\b",
    r"\bvoordat u\b", r"\bin plaats van\b",
    r"(?:書く|投稿する|つける|付ける|する|される)前に|前に(?:ご連絡|一度)",
    r"差评(?:之)?前|评价(?:之)?前|先联系",
)
INCENTIVE = words(
    r"\bfree\b|\bgift ?cards?\b|\bvouchers?\b|\bcoupons?\b|\bdiscounts?\b|\brefund\w*|\breimburs\w*|\bcash ?back\b|"
    r"\bmoney back\b|\brewards?\b|\bbonus\b|\bcompensat\w*|\bgifts?\b|\bsamples?\b|\bpaypal\b|"
    r"[$€£]\s?\d|\d\s?(?:[$€£]|usd\b|eur\b|euros?\b|dollars?\b)",
    r"\bgratis\b|\bkostenlos\w*|\bgeschenk\w*|gutschein\w*|\brabatt\w*|erstatt\w*|\bgeld zurück\b|\bprämie\b|"
    r"\bbelohnung\b|\bdankeschön\b|\bpreisnachlass\b",
    r"\bgratuit\w*|\bofferte?s?\b|\bcadeaux?\b|\bbon d'achat\b|\bremise\b|\bréduction\b|\brembours\w*|\brécompense\w*",
    r"\bgratuit\w*|\bomaggio\b|\bregal[oi]\b|\bbuono\b|\bsconto\b|\brimbors\w*|\bricompens\w*|\bpremio\b",
    r"\bregalo\b|\btarjeta regalo\b|\bcupón\b|\bdescuento\b|\breembols\w*|\brecompensa\b|\bbono\b|\bvale (?:de|regalo)\b",
    r"\bcadeaubon\b|\bcadeau\b|\bkorting\b|\bterugbetal\w*|\bbeloning\b|\btegoedbon\b",
    r"特典|割引|プレゼント|返金|ギフト|クーポン|無料|ポイント|謝礼|キャッシュバック|お礼の品|進呈|差し上げ|\d+円",
    r"返现|红包|返款|退款|礼品卡|优惠券|折扣|免费|赠品|赠送|奖励|礼物|现金|\d+元|补贴|返\d",
)
# the review is what the incentive is exchanged for
EXCHANGE = words(
    r"\bin (?:exchange|return) for\b|\bfor (?:a|an|each|every|your honest)\b|\b(?:if|once|after|when) you\b|"
    r"\band (?:we'll|we will|you'll|you will|get)\b|\bto (?:receive|get)\b",
    r"\bfür (?:eine|ihre|jede)\b|\bim austausch\b|\bals dank\b|\bdafür\b|\b(?:wenn|sobald|nachdem) sie\b|\berhalten sie\b",
    r"\ben échange\b|\bpour (?:un|une|votre|chaque)\b|\bsi vous\b|\bune fois\b|\baprès avoir\b|\brecev\w*",
    r"\bin cambio\b|\bper (?:una|la sua|ogni)\b|\bse (?:lei|ci)\b|\bdopo aver\w*|\buna volta\b|\bricever\w*",
    r"\ba cambio\b|\bpor (?:una|su|cada)\b|\bsi (?:nos|usted|deja)\b|\bdespués de\b|\buna vez\b|\brecibir\w*",
    r"\bin ruil\b|\bvoor (?:een|uw)\b|\bals u\b|\bontvangt\b",
    r"引き換え|いただいた方|いただければ|頂ければ|頂いた方|された方|すると|もれなく|投稿で|レビューで|書いた方",
    r"返现|就|即可|可获|可得|即送|送|之后|后",
)
_EN_CHANGE = (r"\b(?:remov(?:e|ing)|delet(?:e|ing)|chang(?:e|ing)|updat(?:e(?!:)|ing)|edit(?:ing)?|revis(?:e|ing)|amend(?:ing)?|"
              r"tak(?:e|ing) down|withdraw(?:ing)?|reconsider(?:ing)?|modify(?:ing)?|adjust(?:ing)?)\b")
_EN_CHANGED = r"\b(?:removed|deleted|changed|updated|edited|revised|taken down|withdrawn)\b"
_EN_R = rf"(?:{_EN_REVIEW}|\bfeedback\b|\bratings?\b|\bstars?\b)"
_DE_CH = r"\b(?:lösch\w*|entfern\w*|änder\w*|abänder\w*|abzuänder\w*|anpass\w*|anzupass\w*|zurückzu?zieh\w*|zurückzunehm\w*|zurücknehm\w*|überarbeit\w*|aktualisier\w*|korrigier\w*|überdenk\w*|revidier\w*)"
_DE_R = r"\b(?:bewertung(?:en)?|rezension(?:en)?|feedback|sterne)\b"
_FR_CH = r"\b(?:supprim\w*|retir\w*|modifi\w*|chang\w*|mettre à jour|mettiez à jour|revoir|révis\w*|enlev\w*|reconsidér\w*)"
_FR_R = rf"(?:{_FR_AVIS}|\bcommentaires?\b|\bévaluations?\b|\bnote\b)"
_IT_CH = r"\b(?:rimuov\w*|togli\w*|elimin\w*|cancell\w*|modific\w*|cambi\w*|aggiorn\w*|ritir\w*|rived\w*|riconsider\w*)"
_IT_R = r"\b(?:recension[ie]|valutazion[ei]|feedback|stelle)\b"
_ES_CH = r"\b(?:elimin\w*|borr\w*|quit\w*|retir\w*|modific\w*|cambi\w*|actualiz\w*|edit\w*|reconsider\w*)"
_ES_R = r"\b(?:reseñas?|valoraci[oó]n(?:es)?|opini[oó]n|comentarios?|calificaci[oó]n|estrellas)\b"
_NL_CH = r"\b(?:verwijder\w*|aanpass\w*|wijzig\w*|intrek\w*|herzie\w*)"
_NL_R = r"\b(?:review|beoordeling|recensie)s?\b"
_JA_CH = r"削除|消して|消し|取り消|取り下げ|変更|修正|書き換え|書き直|見直|更新|上げて|編集"
_JA_R = r"レビュー|評価|口コミ|星"
_ZH_CH = r"删除|删掉|删了|删|修改|更改|撤销|撤回|改成|改为|改一下|改"
_ZH_R = r"评价|评论|差评|中评|好评"
_GAP = r"[^.!?。\n]{0,40}?"
_CJK_GAP = r"[^。!?\n]{0,15}?"
CHANGE = words(
    rf"{_EN_CHANGE}{_GAP}{_EN_R}", rf"{_EN_R}{_GAP}{_EN_CHANGED}",
    rf"{_DE_CH}{_GAP}{_DE_R}", rf"{_DE_R}{_GAP}{_DE_CH}",
    rf"{_FR_CH}{_GAP}{_FR_R}", rf"{_FR_R}{_GAP}{_FR_CH}",
    rf"{_IT_CH}{_GAP}{_IT_R}", rf"{_IT_R}{_GAP}{_IT_CH}",
    rf"{_ES_CH}{_GAP}{_ES_R}", rf"{_ES_R}{_GAP}{_ES_CH}",
    rf"{_NL_CH}{_GAP}{_NL_R}", rf"{_NL_R}{_GAP}{_NL_CH}",
    rf"(?:{_JA_R}){_CJK_GAP}(?:{_JA_CH})", rf"(?:{_JA_CH}){_CJK_GAP}(?:{_JA_R})",
    rf"(?:{_ZH_R}){_CJK_GAP}(?:{_ZH_CH})", rf"(?:{_ZH_CH}){_CJK_GAP}(?:{_ZH_R})",
)


def _about_reviews(msg: Message) -> list[int]:
    """Indexes of the sentences that mention a review, rating or stars."""
    return [i for i, s in enumerate(msg.sentences) if REVIEW.search(s) or POSITIVE.search(s)]


def positive_only(msg: Message) -> str | None:
    """Asks for positive reviews only: "5 stars please", "if you're happy, a review would mean
    a lot", "contact us before leaving a review"."""
    s = msg.sentences
    for i in _about_reviews(msg):
        m = POSITIVE.search(s[i])
        if m and CUE.search(s[i]):
            return s[i]
        if GATING.search(s[i]):
            return s[i]
        if SATISFIED.search(s[i]) or (i and SATISFIED.search(s[i - 1]) and CUE.search(s[i])):
            return s[i]
    return None


def incentive(msg: Message) -> str | None:
    """Offers something for a review: a gift card, refund, discount, free product, money."""
    s = msg.sentences
    for i in _about_reviews(msg):
        if not (CUE.search(s[i]) or EXCHANGE.search(s[i]) or POSITIVE.search(s[i])):
            continue  # "thanks for your feedback" is not a request
        for j in (i, i - 1, i + 1):
            if 0 <= j < len(s) and INCENTIVE.search(s[j]):
                return s[i] if j == i else f"{s[min(i, j)]} {s[max(i, j)]}"
    return None


def change(msg: Message) -> str | None:
    """Asks the buyer to change, update or remove a review."""
    m = CHANGE.search(msg.text)
    return m.group(0) if m else None


RULES = [
    ("review_incentive", "no incentive of any kind (refund, gift card, discount, free item) for a review", incentive),
    ("positive_review_only", "ask for a review neutrally or not at all: never only for positive ones, never only "
                             "from happy buyers", positive_only),
    ("review_change", "never ask a buyer to change, update or remove a review", change),
]
