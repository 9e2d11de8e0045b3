"""Words that cue a personal name (greetings, sign-offs, self-introductions, honorifics) and
words that are never one, per served language (docs/redaction.md)."""

from __future__ import annotations

CLOSINGS = {
    "en": "Thanks|Thanks again|Thanks a lot|Thanks so much|Thanks in advance|Thank you|Thank you very much|Thank you so much|"
          "Many thanks|Regards|Kind regards|Best regards|Warm regards|Warmest regards|Best wishes|Best|All the best|Cheers|"
          "Sincerely|Yours sincerely|Yours truly|Yours faithfully|Yours|Respectfully|Take care|Thx|Ty|Greetings|Love",
    "de": "Mit freundlichen Grüßen|Mit freundlichen Grüssen|Mit freundlichem Gruß|Mit freundlichem Gruss|Freundliche Grüße|"
          "Viele Grüße|Viele Grüsse|Beste Grüße|Liebe Grüße|Schöne Grüße|Herzliche Grüße|Grüße|Grüsse|Gruß|Gruss|LG|MfG|VG|"
          "Danke|Vielen Dank|Danke schön|Besten Dank|Herzlichen Dank|Mfg|Lg|Servus|Tschüss|Bis bald",
    "fr": "Cordialement|Bien cordialement|Très cordialement|Bien à vous|Merci|Merci beaucoup|Merci d'avance|Salutations|"
          "Sincères salutations|Meilleures salutations|Bonne journée|Bonne soirée|Amicalement|Bien amicalement|À bientôt|Bises",
    "it": "Cordiali saluti|Distinti saluti|Saluti|Grazie|Grazie mille|Un saluto|Cordialmente|Buona giornata|A presto|"
          "Un cordiale saluto|Saluti cordiali",
    "es": "Saludos|Un saludo|Atentamente|Gracias|Muchas gracias|Saludos cordiales|Un abrazo|Cordialmente|Muchas gracias de antemano|"
          "Gracias de antemano|Un cordial saludo",
    "pt": "Obrigado|Obrigada|Muito obrigado|Muito obrigada|Cumprimentos|Atenciosamente|Com os melhores cumprimentos|"
          "Melhores cumprimentos|Abraço|Abraços|Saudações|Att",
    "nl": "Met vriendelijke groet|Met vriendelijke groeten|Vriendelijke groet|Vriendelijke groeten|Groeten|Groetjes|"
          "Hartelijke groet|Bedankt|Dank u wel|Dank je wel|Alvast bedankt|Mvg",
    "pl": "Pozdrawiam|Pozdrawiam serdecznie|Serdecznie pozdrawiam|Z poważaniem|Z wyrazami szacunku|Dziękuję|Dzięki|"
          "Pozdrowienia|Dziękuję bardzo",
    "sv": "Med vänliga hälsningar|Med vänlig hälsning|Vänliga hälsningar|Vänlig hälsning|Hälsningar|Hälsning|Mvh|Tack|"
          "Tack så mycket|Tack på förhand|Ha det bra",
}
# Japanese and Chinese closings end a line; the name stands on the next one
CJK_CLOSINGS = (r"よろしくお願い(?:いた)?します|宜しくお願い(?:いた)?します|よろしくお願い申し上げます|お願いします|敬具|以上|"
                r"ありがとうございます|谢谢|謝謝|此致敬礼|此致|敬礼|祝好|顺祝商祺|感谢")
GREETINGS = {
    "en": "Hi|Hello|Hey|Dear|Good morning|Good afternoon|Good evening|Greetings",
    "de": "Hallo|Moin|Servus|Liebe|Lieber|Sehr geehrte|Sehr geehrter|Guten Tag|Guten Morgen|Grüß Gott|Hi",
    "fr": "Bonjour|Bonsoir|Salut|Cher|Chère|Coucou",
    "it": "Ciao|Salve|Gentile|Gentilissima|Gentilissimo|Buongiorno|Buonasera|Caro|Cara|Egregio|Spettabile",
    "es": "Hola|Estimado|Estimada|Buenos días|Buenas tardes|Buenas noches|Querido|Querida",
    "pt": "Olá|Ola|Oi|Bom dia|Boa tarde|Boa noite|Caro|Cara|Prezado|Prezada",
    "nl": "Hallo|Hoi|Beste|Geachte|Goedemorgen|Goedemiddag|Goedenavond|Dag",
    "pl": "Dzień dobry|Witam|Witaj|Cześć|Szanowny|Szanowna|Szanowni|Drogi|Droga",
    "sv": "Hej|Hejsan|Hallå|God morgon|God dag|Bästa|Kära",
}
HONORIFICS = (r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Herrn|Frau|Hr|Fr|M|Mme|Mlle|Monsieur|Madame|Mademoiselle|Sig|Sig\.ra|"
              r"Signor|Signora|Signorina|Sr|Sra|Srta|Señor|Señora|Señorita|Don|Doña|Dhr|Mevr|Mevrouw|Meneer|Pan|Pani|Panie|"
              r"Senhor|Senhora|Sra\.|Dott|Dott\.ssa|Ing|Avv")
# honorifics that need their dot to be one ("M. Dupont", not "size M Black")
DOTTED_HONORIFICS = {"M", "Fr", "Hr", "Sig", "Dott", "Ing", "Avv", "Prof", "Dr", "Sr", "Sra", "Srta", "Dhr", "Mevr"}
# "my name is …": the next words are a name in any case
STRONG_INTROS = (r"my name is|my name's|my names|mein name ist|mein name lautet|ich heiße|ich heisse|je m'appelle|"
                 r"je m’appelle|mon nom est|mi chiamo|il mio nome è|me llamo|mi nombre es|meu nome é|o meu nome é|"
                 r"chamo-me|eu me chamo|mijn naam is|ik heet|nazywam się|mam na imię|jag heter|mitt namn är|"
                 r"hier ist der|hier ist die|hier spricht|signed|sincerely yours")
# "this is …", "sono …": only a capitalised word is a name
WEAK_INTROS = (r"this is|it's|it is|i am|i'm|hier ist|hier schreibt|ici|c'est|moi c'est|je suis|sono|qui è|"
               r"soy|aquí|habla|sou|aqui é|ik ben|hier is|jestem|z tej strony|jag är|det är|"
               # relatives and neighbours named in a delivery request: "my husband Tom Baker"
               r"my (?:son|daughter|husband|wife|partner|mother|father|mom|mum|dad|brother|sister|friend|neighbou?r|colleague)|"
               r"mein(?:e)? (?:Mann|Frau|Sohn|Tochter|Nachbar|Nachbarin|Mutter|Vater|Bruder|Schwester|Kollege|Kollegin)|"
               r"beim Nachbarn|bei (?:Frau|Herrn)|mon (?:mari|fils|voisin|frère|père)|ma (?:femme|fille|voisine|sœur|mère)|"
               r"mio (?:marito|figlio|vicino|fratello)|mia (?:moglie|figlia|vicina|sorella)|mi (?:marido|esposo|esposa|hijo|hija|vecino|vecina)|"
               r"mijn (?:man|vrouw|zoon|dochter|buurman|buurvrouw)|mój (?:mąż|syn|sąsiad)|moja (?:żona|córka|sąsiadka)|"
               r"min (?:man|fru|son|dotter|granne)|o meu (?:marido|filho|vizinho)|a minha (?:mulher|filha|vizinha)|"
               # a recipient named for a delivery: "c/o Maria Garcia", "z. Hd. Herrn …", "à l'attention de …"
               r"c/o|attn\.?|attention|z\. ?Hd\.?|zu Händen(?: von)?|à l'attention de|all'attenzione di|a la atención de|"
               r"t\.a\.v\.|t\.a\.v|att\.?")
# never a name, in any language (checked lower-cased)
NOT_NAMES = set("""
a an the and or but if so to of in on at by for from with without about as is are was were be been am i you he she
we they it me my your our their his her its this that these those there here all any some every each no not yes ok
okay hello hi hey dear thanks thank thx ty regards best kind warm wishes sincerely yours cheers greetings love take care
please sorry again still just really very sure glad happy team support seller sellers customer customers service
client clients buyer buyers shop store amazon prime marketplace partner everyone everybody guys folks sir madam
madame monsieur mister miss mrs mr ms dr order orders item items package parcel delivery shipping return refund
invoice tracking number phone email mail address subject re fw fwd sent iphone android ipad mobile samsung galaxy
outlook gmail yahoo hotmail web de la le les du des da di del della il lo gli el los las y e et und oder o u van von
der die das den dem des zu zum zur im am an auf aus bei mit nach seit vom für ich du er sie es wir ihr mein meine
dein sehr geehrte geehrter damen herren liebe lieber hallo danke vielen dank grüße gruß grüsse gruss freundlichen
freundliche viele beste herzliche schöne liebe mfg lg vg kunde kundin kundenservice verkäufer händler bitte leider
noch nicht gerade je tu il elle nous vous ils elles mon ma mes ton ta votre vos notre nos bonjour bonsoir salut cher
chère merci cordialement salutations bien vendeur vendeuse très vraiment encore io tu lui lei noi voi loro mio mia
ciao salve gentile buongiorno grazie saluti cordiali distinti venditore cliente molto ancora yo tú él ella nosotros
hola estimado estimada gracias saludos atentamente vendedor muy todavía todos tutti tous tout zusammen allerseits
olá obrigado obrigada cumprimentos vendedor cliente ik jij hij zij wij jullie hallo beste geachte bedankt groeten
groet verkoper klant ja nee ja nie tak dzień dobry witam pozdrawiam dziękuję sprzedawca klient jag du han hon vi ni
hej tack hälsningar säljare kund mvh hälsning delivery failure failed mailer daemon postmaster subsystem system
administrator notification notifications noreply no-reply reply auto automatic out office abwesend absent
assenza ausencia afwezig nieobecność frånvaro message messages nachricht new neue nouveaux nouveau following
recipient recipients undeliverable returned unzustellbar vacation holiday holidays urlaub vacances ferie
vacaciones info contact kontakt admin sales verkauf vertrieb buchhaltung accounting billing returns retouren
best, regards, hi, hello, dear, thanks, greetings, mail delivery subsystem receipt photo photos picture image scan
passport id ausweis personalausweis document documents rechnung quittung facture reçu fattura ricevuta factura recibo
""".split())

NOT_NAMES |= set("""
monday tuesday wednesday thursday friday saturday sunday january february march april june july august september
october november december montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz mai juni
juli oktober dezember lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril juin juillet
août septembre octobre novembre décembre lunedì martedì mercoledì giovedì venerdì sabato domenica lunes martes
miércoles jueves viernes sábado domingo today tomorrow yesterday heute morgen gestern aujourd'hui demain oggi domani
hoy mañana vandaag morgen dzisiaj jutro idag imorgon hoje amanhã
""".split())
# every word of a greeting, sign-off or introduction ("Merci beaucoup" is no name "beaucoup", "Ciao, sono Gio")
NOT_NAMES |= {w.lower() for table in (CLOSINGS, GREETINGS) for v in table.values() for w in v.replace("|", " ").split()}
NOT_NAMES |= {w.lower() for w in (STRONG_INTROS + "|" + WEAK_INTROS).replace("|", " ").replace("(?:", " ").replace(")", " ")
              .replace("?", " ").split() if w.isalpha()}
# interjections that open a reply after a greeting ("Hi, Great, …", "Buenos días, Vale, gracias")
NOT_NAMES |= set("""great awesome perfect excellent fine good nice cool super sure yes no yeah yep nope well sorry ok okay
oh ah hmm wow alright right indeed gut toll klasse prima super perfekt genau stimmt alles okay parfait génial super
d'accord bien entendu perfetto ottimo bene benissimo certo esatto perfecto genial vale bueno claro exacto perfeito
ótimo certo claro prima goed mooi top dobrze świetnie super bra toppen perfekt precis""".split())
NOT_NAMES |= {"och", "oraz", "ale", "ed", "mais", "pero", "mas", "maar", "men", "samt", "sowie", "ou", "oppure", "ó",
              "ihnen", "euch", "uns", "dir", "dich", "mich", "mir", "lui", "leur", "vous", "usted", "ustedes", "voi", "lei"}
# first names that are also ordinary words: matched only capitalised
AMBIGUOUS_NAMES = {"will", "may", "mark", "bill", "rose", "hope", "grace", "joy", "june", "april", "art", "sue", "pat",
                   "rich", "drew", "jack", "frank", "faith", "summer", "august", "max", "ray", "sky", "dawn", "rob",
                   "bob", "don", "guy", "ken", "lily", "iris", "ruby", "amber", "jade", "pearl", "ivy", "holly", "robin",
                   "wade", "chase", "lane", "miles", "dean", "gene", "carol", "eve", "glen", "reed", "penny", "sandy",
                   "rocky", "buck", "heath", "herb", "van", "bell", "cash", "price", "king", "young", "long", "rich",
                   "sol", "paz", "luz", "mar", "flor", "rosa", "blanca", "angel", "ángel", "pilar", "esperanza",
                   "dolores", "rey", "marta", "pierre", "gabriel"}
# the commonest Chinese and Japanese surnames: a bare CJK word on a contact line is a name only
# when it starts with one ("都庁ビル 鈴木一郎 080-…", "联系电话 …，张伟")
CJK_SURNAMES = set("""王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘
于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯
龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤 張 劉 陳 楊 黃 趙 吳 孫 馬 鄭 謝 韓 馮 鄧 蕭 董 葉 蘇 呂 盧 鍾 譚 陸
佐藤 鈴木 高橋 田中 伊藤 渡辺 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 斎藤 清水 山崎 池田 橋本 阿部 石川
山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本 斉藤 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦
原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 内田 柴田 酒井 宮崎 横山 高木 安藤 宮本 大野 小島 谷口 今井 工藤
高田 増田 丸山 杉山 村田 大塚 新井 小山 平野 藤本 河野 上野 野口 武田 松井 千葉 岩崎 菅原 木下 久保 佐野 野村 松尾 市川
菊地 杉本 古川 大西 島田 水野 桜井 高野 渡部 吉川 山内 西田 飯田 菊池 西川 小松 北村 安田 五十嵐 川口 平田 中田 久保田
服部 岩田 土屋 川村 本田 小池 福島 秋山 森 林 原 関 東 辻""".split())
CJK_NOT_NAMES = set("""以上 敬具 宜しく 谢谢 謝謝 感谢 此致 敬礼 祝好 您好 你好 商品 注文 返品 返金 配送 お客 客 皆 各位 担当 担当者
お疲れ お世話 ご苦労 奥 先生 皆々 店長 店主 卖家 买家 客户 顾客 客服 您的 你们 我们 亲 老板 朋友 お願い ありがとう""".split())
# words of a shop's or company's name: a signature line holding one is not a person
BUSINESS = set("""shop store stores gear outlet gmbh mbh ltd limited inc llc plc co company corp corporation ag kg ug sarl
sas srl spa sl sa bv nv ab oy team service services support direct official trading handel versand onlineshop
boutique tienda negozio winkel sklep butik loja international global europe
outdoor sports electronics home garden kitchen fashion toys tools products
manager director assistant owner head officer engineer purchasing procurement buyer department practice president ceo
cfo cto founder partner consultant secretary coordinator supervisor geschäftsführer geschäftsführerin leiter leiterin
einkauf abteilung inhaber inhaberin responsable directeur directrice gérant gérante direttore direttrice titolare
gerente director directora jefe propietario eigenaar directeur kierownik dyrektor właściciel chef ägare vd
gerente diretor diretora""".split())
# Title-case words of notices, greetings and shops that close a message without being a name
NOTICE_WORDS = NOT_NAMES | BUSINESS | set("""account health performance notification policy policies center centre central
guarantee claim claims help desk holidays holiday christmas merry happy new year easter god bless hugs kisses love
weekend week day night morning evening regards wishes greetings blessings peace warmly respectfully gratefully truly
frohe weihnachten gutes neues jahr joyeux noël bonne année buon natale felice anno feliz navidad próspero año nuevo
prettige feestdagen wesołych świąt god jul boas festas feliz natal""".split())
# common first names of the served markets: a capitalised pair starting with one of them, alone
# on the last line of a message or in a file name, is a person ("Account Health" is not)
FIRST_NAMES = set("""
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark donald
steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric
jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry
tyler aaron jose adam nathan henry douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry
gerald harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan albert willie
alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip louis harry oliver jamie callum
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley
kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia kathleen amy
angela shirley anna brenda pamela emma nicole helen samantha katherine christine debra rachel carolyn janet catherine
maria heather diane ruth julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea
cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice judy sophia
grace denise amber doris marilyn danielle beverly isabella theresa diana natalie brittany charlotte marie kayla alexis
lori chloe sophie lucy ella mia amelia isla poppy freya jane jim tom bob mike dave steve chris matt nick ben sam
klaus jürgen hans peter wolfgang michael thomas andreas stefan frank uwe bernd dieter günter horst werner manfred
karl heinz helmut gerhard walter rainer ralf jörg jens torsten sven lukas leon finn jonas paul luca felix maximilian
elias noah tim jan niklas moritz florian tobias sebastian matthias christian markus daniel alexander philipp simon
anna sabine monika petra claudia susanne andrea birgit ute karin renate ursula heike gabriele brigitte ingrid
christina nicole stefanie katrin julia lena lea laura hannah emilia mila marie sophie johanna lina ella clara
nina jana tanja silke anja kerstin manuela martina jutta elke dagmar heidi barbara
pierre jean michel philippe alain nicolas christophe patrick françois laurent éric frédéric olivier stéphane
julien sébastien thierry david vincent jérôme guillaume antoine thomas maxime alexandre hugo louis lucas gabriel
arthur jules raphaël théo nathan marie nathalie isabelle sylvie catherine françoise valérie christine sandrine
sophie céline véronique camille élodie amélie chloé manon léa emma jade louise alice inès juliette claire aurélie
marco giuseppe giovanni antonio mario luigi francesco alessandro andrea luca matteo lorenzo leonardo davide simone
federico riccardo stefano paolo roberto massimo fabio salvatore vincenzo giulia francesca chiara sara martina
giorgia alessia elena valentina federica silvia laura paola anna rosa lucia alice aurora ginevra beatrice
javier carlos josé antonio manuel francisco david juan jesús alejandro pablo daniel miguel rafael pedro ángel sergio
fernando jorge luis alberto álvaro adrián diego raúl iván rubén óscar enrique ramón andrés mario maría carmen ana
isabel dolores pilar teresa rosa cristina marta lucía elena laura paula sara raquel beatriz patricia nuria silvia
andrea alba claudia irene julia noelia rocío
daan bram thijs jeroen sander sem lars ruben bas joost niels pieter jan kees wouter stijn maarten tim koen
sanne lotte fleur eva anouk lisa iris femke sophie emma julia lieke floor marieke inge esther
piotr krzysztof tomasz paweł michał marcin jakub adam łukasz mateusz kamil grzegorz marek andrzej jan wojciech
katarzyna agnieszka małgorzata anna joanna magdalena ewa monika aleksandra natalia zofia barbara dorota
erik lars johan anders karl nils per olof sven gustav oskar axel filip viktor emil hugo elias
karin maria eva kristina lena sara emma elsa maja ingrid astrid sofia linnea ebba alva
joão pedro tiago rui nuno miguel diogo rodrigo gonçalo andré bruno ricardo vasco duarte afonso
inês beatriz mariana catarina rita joana leonor matilde carolina margarida sofia
""".split())
# words of an order and short verbs that follow a name in running text ("M. Pedido", "Noemi e ho"),
# "here" and "you" in every language ("Oskar här", "Szanowni Państwo")
NOT_NAMES |= set("""pedido pedidos encomenda encomendas commande commandes bestellung bestellungen ordine ordini zamówienie
zamówienia bestelling beställning beställningen paquete paquet paket pacco paczka pakket paketet envío envoi versand
spedizione wysyłka verzending leverans producto produit produkt prodotto artikel artículo article articolo produto
entrega livraison lieferung consegna dostawa levering reembolso remboursement rückerstattung rimborso zwrot
terugbetaling återbetalning devolução devolución retour rücksendung reso
ho ha hanno abbiamo avevo he has hemos tengo tiene tenho tem temos estou estoy sto stiamo habe hat haben hatte ai avons
heb heeft hebben mam mamy har hade var vi sou está estamos j'ai
här där hier tutaj tu aqui aquí qui ici państwo państwa panowie panie pani pan panią
""".split())
NOT_NAMES |= {"bye", "appreciate", "appreciated", "asap", "urgent", "pls", "plz", "please", "thanx", "tks", "tnx", "xx",
              "xoxo", "regs", "rgds", "brgds", "cya", "later", "soon", "tschau", "tschüs", "adiós", "adieu", "arrivederci",
              "tchau", "hejdå", "doei", "dzięki", "merci", "grazie", "obrigado", "gracias"}
# people a parcel is left with, in every served language: "give it to my neighbour Oona Pettersen"
RELATIONS = (r"(?:my|our)[ \t]+(?:next[- ]door[ \t]+)?(?:neighbou?rs?|landlord|landlady|concierge|doorman|colleague|flatmate|"
             r"roommate|housemate|boss|partner|fianc[ée]e?|girlfriend|boyfriend|cousin|aunt|uncle|niece|nephew|"
             r"grandmother|grandfather|grandma|grandpa|son|daughter|husband|wife|mother|father|mum|mom|dad|brother|"
             r"sister|friend|caretaker|receptionist|assistant)|"
             r"(?:meine[mnrs]?|unsere[mnrs]?|bei|an)[ \t]+(?:Nachbar(?:in|n)?|Vermieter(?:in)?|Hausmeister(?:in)?|"
             r"Kolleg(?:e|in|en)|Mitbewohner(?:in)?|Schwester|Bruder|Tochter|Sohn|Mutter|Vater|Frau|Mann|Freund(?:in)?|"
             r"Partner(?:in)?|Schwiegermutter|Oma|Opa|Tante|Onkel)|"
             r"(?:à[ \t]+)?(?:mon|ma|notre)[ \t]+(?:voisin(?:e)?|gardien(?:ne)?|concierge|collègue|colocataire|"
             r"propriétaire|sœur|soeur|frère|fille|fils|mère|père|mari|femme|ami(?:e)?|compagn(?:on|e)|cousin(?:e)?)|"
             r"(?:al[ \t]+|alla[ \t]+)?(?:mio|mia|nostro|nostra)[ \t]+(?:vicin[oa]|portiere|portinaia|collega|"
             r"coinquilin[oa]|padrone di casa|sorella|fratello|figli[oa]|madre|padre|marito|moglie|amic[oa]|cugin[oa])|"
             r"(?:a[ \t]+)?(?:mi|nuestr[oa])[ \t]+(?:vecin[oa]|porter[oa]|conserje|compañer[oa](?: de piso)?|"
             r"casero|casera|herman[oa]|hij[oa]|madre|padre|marido|mujer|espos[oa]|amig[oa]|prim[oa]|suegr[oa])|"
             r"(?:ao[ \t]+|à[ \t]+)?(?:meu|minha|o meu|a minha|nosso|nossa)[ \t]+(?:vizinh[oa]|porteir[oa]|colega|"
             r"senhori[oa]|irmã|irmão|filh[oa]|mãe|pai|marido|mulher|espos[oa]|amig[oa]|prim[oa])|"
             r"(?:mijn|onze)[ \t]+(?:buurman|buurvrouw|buren|huisbaas|collega|huisgenoot|zus|broer|dochter|zoon|"
             r"moeder|vader|man|vrouw|vriend(?:in)?)|"
             r"(?:mój|moja|mojemu|mojej|naszemu|naszej|u)[ \t]+(?:sąsiad(?:ka|a|owi|ki)?|dozorc[ay]|kolega|koleżank[ai]|"
             r"współlokator(?:ka)?|siostr[ay]|brat(?:a)?|córk[ai]|syn(?:a)?|mam[ay]|tat[ay]|mąż|żon[ay])|"
             r"(?:min|mitt|vår|hos[ \t]+min|hos)[ \t]+(?:granne|grannen|hyresvärd|kollega|rumskamrat|syster|bror|"
             r"dotter|son|mamma|pappa|man|fru|sambo|vän|kompis)")
BUSINESS |= set("""logistik logistics freight spedition transport transportes transporti trasporti expédition
spedizioni envíos s.a. s.l. s.r.l. sp. o.o. kk 株式会社 有限会社 有限公司 公司""".split())
# a parcel, an invoice or a letter "in the name of" someone, and "writing to you is …"
RELATIONS += (r"|a nombre de|en nombre de|a nome di|a nome de|em nome de|intestat[oa] a|au nom de|im Namen von|"
              r"auf den Namen(?: von)?|op naam van|namens|on behalf of|in the name of|w imieniu|na nazwisko|"
              r"på namnet|i namn av|le escribe|les escribe|vi scrive|ti scrive|vous écrit|escreve|schreibt Ihnen|"
              r"de parte de|da parte di|de la part de|"
              r"il signor|la signora|la signorina|el señor|la señora|la señorita|o senhor|a senhora|la sra\.|el sr\.")
for _lang, _extra in {"es": "Atte|Att|Slds|Sds", "fr": "Cdt|Cdlt|Bàv|Bav|Amitiés", "pt": "Att|Atte|Cumps|Abs",
                      "it": "Cordiali Saluti|Distinti Saluti|Saluti cordiali|Grazie ancora", "de": "Gruß und Dank|MFG",
                      "nl": "Gr|Grtz|Mvg", "sv": "MVH|Hälsn", "pl": "Pozdr|Pzdr", "en": "Rgds|Brgds|Best wishes"}.items():
    CLOSINGS[_lang] += "|" + _extra
NOT_NAMES |= {w.lower() for v in CLOSINGS.values() for w in v.replace("|", " ").split()}
# question words open a sentence after a greeting's comma ("madame, monsieur, Où en est …")
NOT_NAMES |= set("""où quand comment pourquoi quoi quel quelle dónde cuándo cómo por qué qué dove quando come perché cosa
onde como porquê wo wann wie warum was welche waar wanneer hoe waarom wat gdzie kiedy jak dlaczego co var när hur
varför vad where when how why what which who""".split())
# handing a parcel over to someone: "leave it with Oona Pettersen", "bitte bei Frieda Unterholzner abgeben"
HANDOVERS = (r"(?:leave|give|hand|deliver|pass|send|address)(?: it| them| the parcel| the package)?(?: over)? (?:to|with)|"
             r"addressed to|for the attention of|fao|abgeben bei|bitte bei|abzugeben bei|zustellen an|"
             r"remettre à|à remettre à|déposer chez|laisser chez|à l'attention de|consegnare a|lasciare a|"
             r"lasciatelo a|entregar a|dejar con|entréguenlo a|déjenlo con|entregar ao|entregar à|deixar com|"
             r"afleveren bij|afgeven bij|bezorgen bij|zostawić u|oddać|doręczyć do|lämna till|lämna hos|leverera till")
RELATIONS += (r"|(?:alla|la|al|il|a la|al|el|ao|à|o|a)[ \t]+(?:signor[ae]?|signorina|señor[a]?|señorita|senhor[a]?)|"
              r"(?:mi|mis|mio|mia|mój|moja|min|mitt|meu|minha|mijn|mein(?:e[mnr]?)?|mon|ma)[ \t]+"
              r"(?:cuñad[oa]|yerno|nuera|novi[oa]|pareja|sobrin[oa]|tí[oa]|abuel[oa]|cognat[oa]|suocer[oa]|fidanzat[oa]|"
              r"nipote|zi[oa]|nonn[oa]|compagn[oa]|cunhad[oa]|sogr[oa]|namorad[oa]|sobrinh[oa]|ti[oa]|avô|avó|"
              r"beau-frère|belle-sœur|copain|copine|neveu|nièce|oncle|tante|grand-mère|grand-père|compagne|"
              r"Schwager|Schwägerin|Lebensgefährtin|Lebensgefährte|Enkel(?:in)?|Neffe|Nichte|Cousine?|"
              r"zwager|schoonzus|vriendin|szwagier|narzeczon[ya]|wujek|ciocia|svåger|svägerska|pojkvän|flickvän)")
