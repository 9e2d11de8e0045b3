"""Postal addresses: street and number in either order (EN "55 W 46th St", DE "Hauptstraße 5",
"Unter den Linden 77", FR "8 rue des Lilas", IT/ES/PT/PL "Via Roma 5", "Calle de Alcalá 45",
"ul. Długa 5"), PO boxes, postal code + city (any case next to a street or alone on a line),
US "City, ST 12345", UK and Canadian postcodes, and Japanese/Chinese addresses with or without
〒 and prefecture (大阪市北区梅田1-1-1). Runs on the normalised text (docs/redaction.md).
"""

from __future__ import annotations

import re

from seller_inbox.redaction import address_blocks
from seller_inbox.redaction.spans import Span

_UP = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĘĚĹĽŁŃŇŐŒŔŘŚŞŠŢŤŮŰŹŻŽ"
_LO = "a-zß-öø-ÿāăąćčďđęěĺľłńňőœŕřśşšţťůűźżž"
# words are bounded (a 20,000-character "O'O'O'…" must not be tried from every letter)
_CAP = rf"[{_UP}][{_LO}'’.-]{{0,30}}[{_LO}]"      # a capitalised word
_WORD = rf"[{_UP}{_LO}][{_UP}{_LO}'’-]{{0,30}}"    # any word
_NUM = r"\d{1,5}(?:[ \t]?[A-Za-z](?![A-Za-z]))?(?:[-/]\d{1,4}[A-Za-z]?){0,2}"
# after the house number: not a lowercase noun ("Am Montag 2 Pakete", "via DHL 3 days")
# words of a flat or floor may follow the number ("54 bte 3", "12 scala B", "14 bajo")
_UNIT_WORDS = (r"bte|bus|boîte|app|apt|appt|esc|int|interno|scala|piso|bajo|bajos|planta|andar|stiege|tür|top|whg|lgh|"
               r"og|dg|eg|etg|stock|étage|piano|puerta|pta|dto|esq|izda|dcha|apto|apartamento|lok|mieszk")
_NUM_END = rf"(?![ \t]*+(?!(?i:{_UNIT_WORDS})\b)[{_UP}{_LO}]{{2,}})(?![ \t]*+[%€$£x])(?!\d)"
_NOT_STREET = (r"(?!(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Wochenende|Anfang|Ende|Januar|Februar|"
               r"März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Tag|Abend|Morgen)\b)")

_EN_TYPES = (r"Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Ter|"
             r"Close|Crescent|Cres|Gardens|Parkway|Pkwy|Highway|Hwy|Square|Sq|Circle|Cir|Row|Mews|Trail|Trl|Walk|Grove|"
             r"Loop|Plaza|Alley|Path|Ridge|Crossing|Pike|Turnpike|Expressway|Broadway|Parade|Pde|Esplanade|Esp|Quay|Rise|"
             r"Vale|Heights|Promenade|Green|Hill|View|Wynd|Gate|Chase|Hollow|Circuit|Cct|Grv")
# the dot after a type is the abbreviation's ("St."), not the sentence's ("… 55 Main Street.")
_ABBR_DOT = r"(?:(?<=St|Rd|Ln|Dr|Ct|Pl|Sq)|(?<=Ave|Ter|Hwy|Cir|Trl)|(?<=Blvd|Cres|Pkwy))\.?"
_EN_STREET = re.compile(
    r"(?:\b(?:Flat|Apt|Apartment|Suite|Unit|Level|Lvl|Floor|Shop)\.?[ \t]*+\d{1,4}[A-Za-z]?,?[ \t]++|\bUnit[ \t]++)?"
    rf"(?<![\w-])\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,5}}[A-Za-z]?)?(?:[ \t]++(?:[NSEW]\.?|North|South|East|West|\d{{1,3}}(?:st|nd|rd|th)|{_CAP})){{1,4}}"
    rf"[ \t]++(?:{_EN_TYPES})\b(?:{_ABBR_DOT})?(?:[ \t]++(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?[ \t]*+(?:Apt|Apartment|Suite|Ste|Unit|Flat|Fl|Floor|#)\.?[ \t]*+#?[\w-]+)?")
# the same on a line of its own, in any case ("42 maple street")
_EN_STREET_LINE = re.compile(
    rf"(?im)^[ \t]*+\d{{1,5}}[A-Za-z]?(?:[ \t]++{_WORD}){{1,4}}[ \t]++(?:{_EN_TYPES})\b\.?"
    r"(?:,?[ \t]*+(?:apt|apartment|suite|unit|flat|#)\.?[ \t]*+[\w-]+)?[ \t]*+,?[ \t]*+$")
_PO_BOX = re.compile(
    r"(?i:\b(?:G\.?)?P\.?[ \t]?O\.?[ \t]?Box|\bPost[ \t]?Office[ \t]?Box|\bPostfach|\bPostboks|\bBo[iî]te[ \t]postale|\bB\.P\.|"
    r"\bCasella[ \t]postale|\bApartado(?:[ \t]de[ \t]correos)?|\bApdo\.|\bSkrytka[ \t]pocztowa|\bPostbus|"
    r"\bCaixa[ \t]postal|\bLocked[ \t]Bag|\bPrivate[ \t]Bag)"
    r"[ \t]*+(?:n[rº°o]?\.?[ \t]*+)?#?[ \t]*+\d{1,6}(?:[ \t]\d{2,3}){0,3}\b"
    r"|\b(?:Box|BP|CS|TSA|PMB)[ \t]\d{2,6}\b|私書箱[ \t]*+\d{1,6}号?|(?:邮政)?信箱[ \t]*+\d{1,6}(?:号|分箱)?")
_DE_SUFFIX = (r"straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt|stieg|"
              r"straat|laan|gracht|plein|kade|singel|dijk|steeg|hof|"
              r"gatan|vägen|gränd|torget|stigen|backen|allén|väg|gata")
_DE_STREET = re.compile(
    rf"(?<![\w'’-])(?:{_CAP}[ \t]++)?[{_UP}{_LO}][\w'’-]{{2,40}}(?i:{_DE_SUFFIX})[ \t]*+{_NUM}{_NUM_END}"
    rf"|(?<![\w-])(?:{_CAP}[ \t])?(?i:Straße|Strasse|Weg|Platz|Allee)[ \t]++(?:des|der|am|an der|zum|zur)?[ \t]*+{_CAP}[ \t]++{_NUM}{_NUM_END}"
    # "Berliner Straße 5", "Alter Markt 3": an adjective, then the type word as a word of its own
    rf"|(?<![\w-]){_CAP}[ \t]++(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Ring|Damm|Gasse|Ufer|Chaussee|Markt|Steig|Pfad)"
    rf"[ \t]*+{_NUM}{_NUM_END}"
    rf"|\b(?:Am|An der|An den|Im|In der|In den|Auf der|Auf dem|Zum|Zur|Unter den|Unter der|Hinter der|Hinter dem|"
    rf"Vor dem|Bei der|Alt|Alte|Neue|Neuer|Op de|Aan de|In de|Van)[ \t]++{_NOT_STREET}{_CAP}(?:[ \t]++{_CAP})?[ \t]++{_NUM}{_NUM_END}")
_ROMANCE_TYPES = (r"rue|avenue|boulevard|chemin|place|quai|chaussée|drève|allée|impasse|route|"
                  r"via|viale|piazza|piazzale|corso|vicolo|largo|strada|contrada|borgo|lungomare|salita|"
                  r"calle|c/|avenida|avda\.?|av\.|plaza|rambla|glorieta|urbanización|urb\.|avinguda|passeig|"
                  r"bairro|ladeira|rodovia|praceta|beco|frazione|fraz\.|località|loc\.|borgata|cascina|travessera|"
                  r"traversa|pza\.|ctra\.|trav\.|pº|v\.le|p\.za|p\.zza|c\.so|l\.go|"
                  r"paseo|camino|carrer|carretera|ronda|travesía|rúa|rua|travessa|praça|estrada|alameda|"
                  r"ul\.|ulica|al\.|aleja|os\.|osiedle|pl\.|plac")
_PART = r"(?:de|del|della|delle|dei|degli|di|da|do|dos|das|la|las|los|el|les|le|du|des|d'|l'|dell'|i|y|e|św\.)"
_ROMANCE_STREET = re.compile(
    rf"(?i:\b(?:{_ROMANCE_TYPES}))[ \t]++(?:{_PART}[ \t]*+)*{_WORD}\.?(?:[ \t]++(?:{_PART}[ \t]*+)*(?:{_CAP}\.?|[IVXLC]{{1,5}}\b)){{0,4}}"
    rf",?[ \t]*+(?:(?:n[ºo°.]?[ \t]*+)?\d{{1,4}}[a-zA-Z]?(?:[/-](?:\d{{1,4}}[a-zA-Z]?|[A-Za-z]\b))?{_NUM_END}|s/n\b|(?i:km)[ \t]*+\d{{1,4}}(?:[.,]\d{{1,3}})?\b)"
    r"(?:,?[ \t]*+\d{1,2}[ºª°][ \t]*+(?:(?i:esq|dto|dta|izq|izqda|izda|dcha|drcha|fte|planta|andar|piso)\.?|(?i:frente)|[A-Za-z](?![A-Za-z]))?)?"
    r"(?:,?[ \t]*+(?:m\.|m|lok\.|mieszk\.)[ \t]*+\d{1,4})?")
_FR_STREET = re.compile(
    rf"(?<![\w-])\d{{1,4}}(?:[ \t]?(?:bis|ter|[A-Z]))?,?[ \t]++(?i:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|"
    rf"place|quai|route|cours|passage|square|rua|avenida)\b(?:[ \t]++(?:{_PART}[ \t]*+)*{_WORD})"
    rf"(?:[ \t]++(?:{_PART}[ \t]*+)*{_CAP}(?:-{_WORD})*){{0,3}}")
# postal code and city; the city in any case is kept for the context check in find()
_CITY = rf"((?:Sankt|St\.|Ste\.|San|Santa|Saint|Sainte)?[ \t]?{_WORD}(?:[ \t]++(?:(?:am|an|sur|sous|de|del|di|im|in|bei|la|le|en|an der)[ \t]++)?{_CAP}){{0,3}})"
_POSTCODE_CITY = re.compile(
    rf"(?<![\w-])(?:(?:[A-Z]{{1,2}}-)?\d{{5}}|[A-Z]{{1,2}}-\d{{4}}|\d{{5}}-\d{{3}}|\d{{2}}-\d{{3}}|\d{{4}}[ \t]?[A-Z]{{2}}|"
    rf"\d{{3}}[ \t]\d{{2}}|\d{{4}}-\d{{3}}|\d{{4}})"
    rf"[ \t]++{_CITY}(?:[ \t]++CEDEX(?:[ \t]++\d{{1,2}})?)?(?:[ \t]*+\([^()\n]{{1,30}}\)|[ \t]++[A-Z]{{2}}\b(?![ \t]*+\d))?")
_US_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
              "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR ON QC BC AB MB SK NS NB NL PE").split()
_US_CITY_ZIP = re.compile(
    rf"\b{_CAP}(?:[ \t]++{_CAP}){{0,3}},?[ \t]*+(?:{'|'.join(_US_STATES)})[ \t]++\d{{5}}(?:-\d{{4}})?\b"
    rf"|\b(?:{'|'.join(_US_STATES)})[ \t]++\d{{5}}(?:-\d{{4}})?\b(?![ \t]*+[{_LO}])")
_UK_POSTCODE = re.compile(rf"\b(?:(?:{_CAP}|[A-Z]{{3,}})[ \t]++){{0,2}}[A-Z]{{1,2}}\d[A-Z\d]?[ \t]*+\d[A-Z]{{2}}\b")
# Brazil: "São Paulo - SP", "CEP 01310-100"
_BR_TOWN = re.compile(rf"\b{_CAP}(?:[ \t]++(?:d[aeo]s?[ \t]++)?{_CAP}){{0,3}}[ \t]*+[-/][ \t]*+(?:AC|AL|AP|AM|BA|CE|DF|ES|GO|MA|MT|"
                      r"MS|MG|PA|PB|PR|PE|PI|RJ|RN|RS|RO|RR|SC|SP|SE|TO)\b(?![ \t]*+\d)|\bCEP[ \t]*+[:.]?[ \t]*+\d{5}-?\d{3}\b")
_AU_TOWN = re.compile(rf"\b(?:(?:{_CAP}|[A-Z]{{3,}})[ \t]++){{0,2}}(?:{_CAP}|[A-Z]{{3,}}),?[ \t]++(?:NSW|VIC|QLD|SA|WA|TAS|NT|ACT)"
                      r"[ \t]++\d{4}\b")
_CA_POSTCODE = re.compile(rf"\b(?:{_CAP}(?:[ \t-]++{_CAP}){{0,2}},?[ \t]*+(?:ON|QC|BC|AB|MB|SK|NS|NB|NL|PE|NT|NU|YT|"
                          rf"\({_CAP}(?:[ \t-]{_CAP})?\)|Ontario|Qu[ée]bec|Alberta|Manitoba|Saskatchewan|Nova Scotia|"
                          r"New Brunswick|British Columbia)[ \t]++)?"
                          r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d\b")
_KANJI = "一-龥々〆ヶ"
_JP_PREF = r"(?:東京都|北海道|京都府|大阪府|[一-龥]{2,3}県)"
_JP_NUMBERS = r"\d{1,4}(?:(?:丁目|番地|番|号|の|-|条[東西南北]?)\d{1,4}){0,4}(?:丁目|番地|番|号)?"
# town names are kanji and katakana with the odd が/の/ケ (霞が関); a sentence's hiragana ends the address
_JP_TOWN = rf"[{_KANJI}ァ-ンがのケ]"
_JP_ADDRESS = re.compile(
    r"〒[ \t]?\d{3}-?\d{4}"
    rf"|(?<!\d)\d{{3}}-\d{{4}}(?=[ \t]*+{_JP_PREF})"
    rf"|{_JP_PREF}[ぁ-ん]{{1,6}}市"  # さいたま市, つくば市: a city in kana, continued by _JP_REST
    rf"|{_JP_PREF}{_JP_TOWN}{{1,20}}?{_JP_NUMBERS}|{_JP_PREF}[{_KANJI}]{{1,20}}"
    rf"|[{_KANJI}]{{1,5}}[市区町村郡]{_JP_TOWN}{{0,12}}?{_JP_NUMBERS}")
_ZH_ADDRESS = re.compile(
    rf"(?:[{_KANJI}]{{2,3}}(?:省|自治区))?(?:[{_KANJI}]{{2,4}}市)?(?:[{_KANJI}]{{1,4}}(?:区|县))?"
    rf"[{_KANJI}\d]{{1,12}}?(?:路|街|道|巷|弄|大道)(?:[一二三四五六七八九十\d]{{1,3}}段)?\d{{1,5}}[号號](?:[{_KANJI}\d]{{0,10}}?(?:室|楼|樓|单元|栋))?")
# what follows a Japanese or Chinese address on the same line: a town in kana, numbers, the building
# and its floor or flat ("みなとみらい2-3-1 クイーンズタワーA 15階", "SOHO现代城A座1201室")
_JP_REST = re.compile(rf"[ぁ-んァ-ヶー{_KANJI}]{{1,12}}?\d{{1,4}}(?:(?:丁目|番地|番|号|の|-)\d{{1,4}}){{0,4}}(?:丁目|番地|番|号)?")
_CJK_BUILDING = re.compile(
    r"[ \t]?[^\n、。,，;；:：()（）「」]{0,30}?(?:\d{1,3}(?:階|F|楼|樓|层)|\d{1,5}(?:号室|室)|ビル|マンション|ハイツ|コ[ー-]ポ|"
    r"レジデンス|タワ[ー-]|役所|役場|[A-Za-z\d]{1,3}[座栋幢塔棟]\d{0,5}室?|\d{1,2}单元\d{0,5}室?|大厦|公寓|产业园|园区)"
    r"(?:[ \t]?\d{1,5}(?:号室|室|階|楼|樓)?)?")
_ZH_AREA = re.compile(
    rf"[{_KANJI}]{{2,3}}(?:省|自治区)[{_KANJI}]{{2,4}}市(?:[{_KANJI}]{{1,4}}?[区县市])?(?:[{_KANJI}\d]{{1,10}}?(?:路|街|大道|巷))?"
    rf"|[{_KANJI}]{{2,4}}市[{_KANJI}]{{1,4}}?区(?:[{_KANJI}\d]{{1,10}}?(?:路|街|大道|巷))?"
    rf"|[{_KANJI}]{{2,8}}?(?:小区|花园|公寓|新村|家园|社区)(?:\d{{1,3}}[栋幢号楼座])?(?:\d{{1,2}}单元)?(?:\d{{1,5}}室?)?"
    r"|(?:邮编|邮政编码|郵便番号)[ \t]*+[:：]?[ \t]*+\d{3}-?\d{3,4}")
# a street without a known type word ("Damrak 1"): only right before a postal code and town
_GENERIC_STREET = re.compile(
    rf"(?:^|(?<=[\n,:;.!?]))[ \t]*+((?:{_CAP}[ \t]++(?:(?:van|von|de|der|den|la|le|di|da|del|du|des)[ \t]++)*){{0,3}}"
    rf"{_CAP}[ \t]++\d{{1,5}}[a-zA-Z]?(?:[-/]\d{{1,4}}[a-zA-Z]?)?)[ \t]*+(?:,[ \t]*+|\n[ \t]*+)$")
_STREETS = (_EN_STREET, _EN_STREET_LINE, _PO_BOX, _DE_STREET, _ROMANCE_STREET, _FR_STREET)
# capitalised words after a postal code that are nouns, not towns ("10000 Stück")
_NOT_CITIES = {
    "Stück", "Stk", "Euro", "Euros", "Dollar", "Dollars", "Yen", "Punkte", "Bewertungen", "Kunden", "Jahre", "Jahren",
    "Einheiten", "Artikel", "Teile", "Pakete", "Bestellungen", "Units", "Pieces", "Items", "Orders", "Reviews",
    "Points", "Customers", "Years", "Days", "Hours", "Times", "Pcs", "Mah", "mAh", "Lumen", "Watt", "Volt", "Rpm",
    "Pa", "Mbps", "GB", "TB", "MB", "Pixel", "Dpi", "Series", "Pro", "Plus", "Max", "Mini", "Ultra", "Edition",
    "Model", "Modell", "Version", "Amazon", "Prime", "Unités", "Pièces", "Pezzi", "Unidades", "Piezas", "Sztuk",
    "Stycken", "Stuks", "Peças", "Euro-Paletten", "Produkte", "Products", "Messages", "Nachrichten", "Mails",
    "Ordini", "Pedidos", "Commandes", "Zamówień", "Jahr", "Year", "And", "Und", "Et", "Y", "E", "Oder", "Or",
}


# a flat, floor or door after the street: "lgh 1102", "Whg. 5", "3e étage", "piso 2"
_UNIT_AFTER = re.compile(
    r"[ \t]*+[,-]?[ \t]*+(?:(?i:lgh|whg\.?|wohnung|apt\.?|apartment|suite|unit|flat|app\.?|appartement|bât\.?|bâtiment|"
    r"escalier|esc\.?|piso|puerta|pta\.?|scala|interno|int\.|lok\.|m\.|etg\.?|étage|stock|og|dg|bte|bus|boîte|"
    r"stiege|stg\.?|tür|top|apto\.?|apartamento|portal|bloque|bloco|edificio|edif\.|km|sala|loja|conjunto|cj\.?)(?![a-zà-ÿ])[ \t]*+[\w-]{1,6}\.?|"
    r"\d{1,2}(?:e|er|ème|\.)?[ \t]*+(?i:étage|stock|og|piano|planta|etage|tr|trappor|vån|våning|andar)\b|"
    r"\d{1,2}[ \t]*+\.?[ºª°][ \t]*+(?:(?i:planta|andar|piso|esq|dto|dta|izq|izqda|izda|dcha|drcha|fte|frente|"
    r"direito|esquerdo)\.?|[A-Za-z](?![A-Za-z]))?|"
    r"(?i:bajo|bajos|entresuelo|ático|atico|àtic|principal|r/c|rés-do-chão)\b\.?(?:[ \t]*+\d{1,2}[a-zA-Zºª]?\b)?)")
# a building, staircase or flat on a line of its own next to an address: "Résidence Les Pins, Bât. B"
_BUILDING_LINE = re.compile(
    r"(?m)^[ \t]*+(?:Résidence|Résid\.|Bât\.?|Bâtiment|Immeuble|Escalier|Appartement|Appt\.?|Apt\.?|Flat|Suite|Unit|"
    r"Building|Bldg\.?|Gebäude|Hinterhaus|Vorderhaus|Edificio|Edif\.|Palazzina|Scala|Piso|Portal|Bloque|Blok|Klatka|"
    r"Lgh|Lägenhet|c/o)\b[^\n]{0,50}$")
# a firm on a c/o line receives the parcel: its name is no one's personal data
_FIRM = re.compile(r"(?i)\b(?:gmbh|ag|kg|ltd|limited|inc|llc|plc|sarl|sas|srl|spa|s\.?l|s\.?a|bv|nv|ab|oy|"
                   r"co|company|corp|logisti[ck]s?|freight|spedition|transport[es]?|trading|services)\b\.?")


def find(norm: str, has_cjk: bool) -> list[Span]:
    spans = []
    for rx in _STREETS:
        spans.extend(Span(m.start(), m.end(), "ADDRESS") for m in rx.finditer(norm))
    for rx in (_US_CITY_ZIP, _UK_POSTCODE, _CA_POSTCODE, _AU_TOWN, _BR_TOWN):
        spans.extend(Span(m.start(), m.end(), "ADDRESS") for m in rx.finditer(norm))
    streets = sorted(spans)
    for s in streets:
        end = s.end
        for _ in range(3):  # "80, 3.º Dto", "12, scala B, interno 7"
            unit = _UNIT_AFTER.match(norm, end)
            if not unit:
                break
            end = unit.end()
        if end > s.end:
            spans.append(Span(s.start, end, "ADDRESS"))
    starts, ends = {s.start for s in spans}, {s.end for s in spans}
    for m in _BUILDING_LINE.finditer(norm):
        line = m.group(0)
        near = any(m.end() + k in starts or m.start() - k in ends for k in (1, 2))
        if near and not _FIRM.search(line) and (
                any(c.isdigit() for c in line) or re.search(r"\b[A-Z]\b|[A-Z][a-zà-ÿ]+ [A-Z][a-zà-ÿ]+", line)):
            spans.append(Span(m.start() + len(line) - len(line.lstrip(" \t")), m.end(), "ADDRESS"))
    for m in _POSTCODE_CITY.finditer(norm):
        if _is_town(norm, m, ends):
            spans.append(Span(m.start(), m.end(), "ADDRESS"))
            before = _GENERIC_STREET.search(norm, max(0, m.start() - 80), m.start())
            if before:
                spans.append(Span(before.start(1), before.end(1), "ADDRESS"))
    if has_cjk:
        spans.extend(_cjk(norm))
    return spans + address_blocks.extend(norm, spans)


def _cjk(norm: str) -> list[Span]:
    """Japanese and Chinese addresses, each continued over the rest of its town and its building."""
    found = [m.span() for rx in (_JP_ADDRESS, _ZH_ADDRESS, _ZH_AREA) for m in rx.finditer(norm)]
    out = []
    for start, end in found:
        if norm[end - 1:end] in "市区町村郡":
            rest = _JP_REST.match(norm, end)
            end = rest.end() if rest else end
        for _ in range(3):  # "中关村大厦" then "B座1506室"
            building = _CJK_BUILDING.match(norm, end)
            if not building or building.end() == end:
                break
            end = building.end()
        out.append(Span(start, end, "ADDRESS"))
    return out


def _is_town(norm: str, m: re.Match, street_ends: set[int]) -> bool:
    """A postal code's town: capitalised and not a noun, or in any case when a street stands just
    before it or the code and town are a line of their own."""
    city = m.group(1)
    first = city.split()[0]
    code = m.group(0)[: m.start(1) - m.start()].strip()
    four_digits = code.isdigit() and len(code) == 4
    near_street = any(m.start() - k in street_ends and norm[m.start() - k:m.start()].strip(" \t,\n") == ""
                      for k in range(4))
    line_start = norm.rfind("\n", 0, m.start()) + 1
    line_end = norm.find("\n", m.end())
    alone = norm[line_start:m.start()].strip(" \t,") == "" and norm[m.end():len(norm) if line_end < 0 else line_end].strip(" \t,.") == ""
    if near_street or alone:
        return first not in _NOT_CITIES and first.lower() not in _LOWER_NOT_CITIES
    if four_digits or first in _NOT_CITIES:
        return False
    return first[0].isupper() and (len(first) == 1 or not first.isupper() or len(first) > 3) and first[1:2].islower()


_LOWER_NOT_CITIES = {c.lower() for c in _NOT_CITIES} | {"x", "mal", "fois", "volte", "veces", "times", "st", "stk"}
