"""Marketing and promotion: discount codes and coupons, "buy now", other products, the shop,
newsletters and follow-us requests.

Ordinary words for a sale or an offer ("bought in a sale", "Ihr Angebot", "la oferta") are not
marketing; a promotion is: "our summer sale", "Sonderangebot", "use code SAVE20", "10% off your
next order".
"""

from __future__ import annotations

from seller_inbox.compliance.message import Message, words

_NEXT = (r"\b(?:next|future|nächste\w*|künftige\w*|prochaine?s?|futures?|prossim\w*|futur\w*|próxim\w*|volgende)\s+"
         r"(?:\w+\s+)?(?:orders?|purchases?|bestellung\w*|einkauf\w*|kauf\w*|commandes?|achats?|ordin[ei]|acquist[oi]|"
         r"pedidos?|compras?|bestelling\w*|aankoop\w*)\b|次回|下次|下一单|再次购买")
_DISCOUNT = (r"\b(?:discount|coupon|voucher|off|rabatt\w*|gutschein\w*|réduction|remise|bon d'achat|sconto|buono|"
             r"descuento|cupón|korting)\b|%|割引|クーポン|オフ|优惠|折扣|折")
PROMOTION = words(
    # codes
    r"\b(?:promo(?:tion(?:al)?)?|discount|coupon|voucher|rabatt|gutschein|aktions|kortings)[- ]?codes?\b",
    r"\bcodes? promo\b|\bcodice (?:sconto|promozionale|coupon)\b|\bc[oó]digo(?: de)? (?:descuento|promocional|promoción|cupón)\b",
    r"\b(?:use|enter|apply|redeem|with|mit|verwenden sie|geben sie|utilisez|avec|usa|utilizza|con|use el|gebruik)\s+"
    r"(?:(?:the|this|our|den|dem|diesen|le|ce|il|lo|el|este|de)\s+)?(?:code|codice|código)\s?:?\s?[\"'“„«]?(?-i:(?=[A-Z]*\d)[A-Z0-9]{4,16})\b",
    r"クーポン|割引コード|プロモーションコード|优惠码|折扣码|优惠券|券码",
    # a discount on the next order
    rf"(?:{_NEXT})[^.!?。\n]{{0,60}}(?:{_DISCOUNT})", rf"(?:{_DISCOUNT})[^.!?。\n]{{0,60}}(?:{_NEXT})",
    r"\b\d{1,2}\s?%\s?(?:off|rabatt|de (?:réduction|remise)|di sconto|de descuento|korting)\b|\d{1,2}\s?%\s?(?:割引|オフ|OFF)|\d折",
    # calls to buy and other products
    r"\b(?:buy|order|shop|purchase) (?:now|today|again)\b|\bget yours\b|\bdon't miss\b|\blimited[- ]time\b|"
    r"\b(?:special|exclusive) offers?\b|\bflash sale\b|\bcheck out our\b|\bvisit our (?:amazon )?(?:store|shop|storefront)\b|"
    r"\bour (?:other|new|latest) (?:products?|items?|collection|arrivals)\b|\bnew arrivals\b|\bnewsletter\b|"
    r"\bfollow us\b|\bsubscribe\b|\blike us on\b|\b(?:our|big|summer|winter|spring|black friday|holiday|annual|clearance) sale\b|"
    r"\bsale (?:starts|ends|is on|now on)\b|\bon sale now\b",
    r"\bjetzt (?:kaufen|bestellen|zugreifen|sichern)\b|\bsonder(?:angebot|aktion)\w*|\bzeitlich begrenzt\w*|"
    r"\bnur für kurze zeit\b|\bexklusive?s? angebot\b|\bunsere[nm]? (?:anderen|weiteren|neuen) (?:produkte|artikel)\b|"
    r"\bbesuchen sie unseren (?:shop|store|amazon-shop)\b|\bfolgen sie uns\b|\babonnieren\b|\bneuheiten\b|"
    r"\bunsere[nm]? (?:\w+ )?(?:angebote|sale|aktionen)\b",
    r"\bachetez (?:maintenant|dès maintenant|vite)\b|\bcommandez (?:maintenant|dès)\b|\boffres? (?:spéciales?|exclusives?|limitées?)\b|"
    r"\bdurée limitée\b|\bnos (?:autres|nouveaux) (?:produits|articles)\b|\bdécouvrez nos\b|\bvisitez notre (?:boutique|magasin)\b|"
    r"\bsuivez-nous\b|\babonnez-vous\b|\bnos (?:\w+ )?(?:offres|promotions|soldes)\b",
    r"\b(?:acquista|compra|ordina) ora\b|\bofferta (?:speciale|esclusiva|limitata)\b|\btempo limitato\b|"
    r"\bi nostri (?:altri|nuovi) (?:prodotti|articoli)\b|\bscopri i nostri\b|\bvisit[ai] il nostro (?:negozio|store)\b|"
    r"\bseguici\b|\biscriviti\b|\ble nostre (?:\w+ )?(?:offerte|promozioni)\b",
    r"\bcompr[ae] (?:ahora|ya)\b|\bcómpralo\b|\bpide ya\b|\boferta (?:especial|exclusiva|limitada)\b|\btiempo limitado\b|"
    r"\bnuestros (?:otros|nuevos) productos\b|\bdescubr[ae] nuestros\b|\bvisit[ae] nuestra tienda\b|\bsíguenos\b|"
    r"\bsuscríbete\b|\bnuestras (?:\w+ )?(?:ofertas|promociones|rebajas)\b",
    r"\b(?:koop|bestel) nu\b|\bspeciale aanbieding\b|\bonze (?:andere|nieuwe) producten\b|\bvolg ons\b|\bnieuwsbrief\b",
    r"今すぐ(?:購入|注文)|期間限定|特別価格|セール(?:開催|中)|新商品|新製品|他の商品|当店の(?:他の)?商品|フォローして|メルマガ|"
    r"ぜひご購入|お買い求め",
    r"立即购买|马上下单|赶紧下单|限时|促销|打折|新品|关注我们|关注店铺|订阅|回购|复购|其他产品|更多产品|进店",
)


def promotion(msg: Message) -> str | None:
    m = PROMOTION.search(msg.text)
    return m.group(0) if m else None


RULES = [
    ("marketing", "no marketing: no discount codes, coupons, calls to buy, other products or follow-us requests",
     promotion),
]
