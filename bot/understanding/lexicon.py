"""Phrase patterns over canonical text (see `normalise`): status words, blockers, questions, modality."""

from __future__ import annotations

import re

from bot.understanding.normalise import PUNCT, SENTENCE_END  # noqa: F401  (re-exported for the readers)


# ---------------------------------------------------------------- phrase patterns (canonical text)
def rx(pattern: str) -> re.Pattern:
    return re.compile(pattern)


DONE_WORDS = r"(?:xong|hoan thanh|hoan tat|done|finished|finish|complete|completed|ht)"
NOT_DONE = rx(rf"\b(?:chua|khong|not|chang|van chua)(?: \w+)?? {DONE_WORDS}\b|\bnot yet\b")
NEAR_DONE = rx(rf"\b(?:gan|sap|almost|nearly|suyt)(?: \w+)?? {DONE_WORDS}\b")
FUTURE_DONE = rx(rf"\b(?:se|mai|chieu|toi|sang|sau|truoc|thu \d+|tuan sau|nua|moi|will|by) {DONE_WORDS}\b")
PARTIAL_DONE = rx(rf"\b(?:xong|hoan thanh) (?:phan(?! viec duoc giao)|khau|buoc|mot so|mot phan|hang muc)\b"
                  rf"|\b{DONE_WORDS}\b.*(?<!khong )\b(?:con(?! (?:anh|chi|em|minh|ban|gi|dong chi|viec gi)\b)|but|nhung|"
                  rf"chi con|con lai|except)\b")
DONE = rx(r"\b(?:xong|hoan thanh|hoan tat|hoan thien|done|finished|complete|completed|san sang|ready|ht|"
          r"xong xuoi|da du|du roi|all set|delivered|sent|nghiem thu xong|dat yeu cau)\b"
          r"|\b(?!yes\b|da\b|a\b|vang\b|ok\b)\w+ (?:ok|on) roi\b")
# "đã in được 200": a count with no whole and no "đủ/hết/toàn bộ": some done, not all.
COUNT_ONLY = rx(r"\b(?<!ngay )(?<!thu )(?<!luc )(?<!hom )(?<![/\d.])\d+\b(?![/.]?\d)(?! ?(?:%|phan|/|tren|trong|h\b|gio))")
WHOLE = rx(r"\b(?:du|het|toan bo|tat ca|xong|hoan thanh|hoan tat|ca)\b")
DONE_VERB = rx(r"\bda (?:\w+ )?(?:gui|nop|phat hanh|in|treo|lap|lap dat|dung|bo tri|sap xep|ban giao|giao|ky|"
               r"dat|thue|mua|kiem tra|chay thu|xac nhan|bao cao|cap nhat|xu ly|chuyen|phat|trang tri|"
               r"to chuc|hoan thien|duyet|tong hop|ra soat|lam xong|nghiem thu|chot)\b"
               r"|\b(?:gui|nop|treo|lap|giao|ky|duyet|lam|xu ly|phat hanh|bao cao|in) (?:(?!hom\b|ngay\b|tuan\b)\w+ ){0,3}roi\b")
STRONG_PROGRESS = rx(r"\b(?:dang|in progress|working|ongoing|doing|on it|lam tiep|tiep tuc|bay gio lam)\b")
WEAK_PROGRESS = rx(r"\b(?:trien khai|tien hanh|thuc hien|bat dau|started|chuan bi|progress)\b"
                   r"|\bcon (?:khoang |tam |chung )?\d+ (?:ngay|tuan|hom|buoi|tieng|gio|phut) nua\b"
                   r"|\b(?:chi con|con (?:moi|mot (?:it|chut|vai)|it|vai|lai|khau|phan|chut xiu|chut))\b")  # "còn mỗi khâu in nữa"
NOT_STARTED = rx(r"\b(?:chua (?:lam|bat dau|trien khai)|not started)\b")

CLEARED = rx(r"\b(?:het|khong con|xong|da giai quyet|giai quyet xong|da xu ly|da thao go) (?:\w+ )?"
             r"(?:vuong|vuong mac|kho khan|ket|van de|blocked)(?: gi)?\b|\bunblocked\b|\bno longer (?:blocked|stuck)\b"
             r"|\b(?:vuong|vuong mac|kho khan|van de)(?: \w+){0,2} (?:da )?(?:duoc )?(?:giai quyet|thao go|xu ly)\b"
             r"|\bresolved\b")
NOBLOCK = rx(r"\b(?:khong|chua|chang|khong co|chua co)(?: \w+){0,2}? (?:vuong|vuong mac|kho khan|van de|issue|issues|"
             r"truc trac|su co|tro ngai|"
             r"problem|problems|blocker|blockers|bi vuong)(?: gi)?\b|\bnot (?:blocked|stuck)\b|\bon track\b"
             r"|\b(?:binh thuong|dung tien do|theo ke hoach|van on|on ca|suon se|on dinh|(?:tien do|moi thu|deu) on)\b"
             r"|\b(?:moi viec|cong viec|moi chuyen|tat ca) (?:deu |van )?on\b|^(?:yes )?on(?: (?:a|anh|chi|ca|het|lam))*$")
# "vướng chút xíu nhưng vẫn làm được": a blocker that does not stop the work.
MINOR = rx(r"\b(?:chut xiu|chut it|mot chut|nho thoi|khong dang ke)\b|\bvan (?:\w+ )?(?:lam|tien hanh|trien khai|chay) "
           r"(?:binh thuong|duoc|tiep)\b|\bkhong anh huong\b")
HOLD_ON = rx(r"\b(?:wait|doi) (?:em |minh |toi |anh )?(?:ti|chut|xiu|lat|1 chut|mot chut|moment|a bit|a sec|a minute)\b")

BLOCK_GENERIC = rx(r"\b(?:vuong|vuong mac|kho khan|bi chan|blocked|blocker|stuck|issue|issues|problem|"
                   r"problems|gap van de|truc trac|su co|trouble|can ho tro|xin ho tro|can giup)\b")
INABILITY = rx(r"\b(?:chua|khong|chang) (?!(?:xong|hoan thanh|hoan tat) duoc)(?:the )?(?:\w+ ){0,3}duoc\b(?! (?:\d|bao nhieu|nhieu|may|mot half|half))|\b(?:khong the|chua the|can t|cannot|"
               r"unable|couldn t|can not)\b")
WAIT = rx(r"\b(?:wait|waiting|awaiting)\b")
WAIT_SOFT = rx(r"\b(?:dang|van dang|still) (?:\w+ )?(?:wait|waiting)\b")
LATER_ONLY = rx(r"\b(?:hen|den|toi|sau|thu \d+|tuan sau|\d+/\d+|\d+ ngay)(?: \w+){0,3} moi "
                r"(?:co|giao|gui|ve|duoc|in|ky|duyet)\b(?! \d)")
LACKING = rx(r"\b(?:thieu|het sach)\b")

REASON_KEYWORDS: list[tuple[str, re.Pattern]] = [
    ("approver_away", rx(r"\b(?:di vang|vang mat|di cong tac|cong tac|nghi phep|di nuoc ngoai|on leave|out of office|"
                         r"away)\b|\b(?:lanh dao|giam doc|chu tich|thu truong|truong phong|nguoi ky|boss)"
                         r"(?: \w+){0,2} (?:di hop|dang hop|hop|chua ve|vang)\b")),
    ("weather", rx(r"\b(?:rain|storm|thoi tiet|nang nong|nang gat|gio to|gio lon|giong|ngap|lu|weather|typhoon|heat)\b")),
    ("equipment", rx(r"\b(?:broken|mat dien|cup dien|mat nguon|chap dien|su co ky thuat|not working|malfunction|"
                     r"equipment|thiet bi)\b|\b(?:may|loa|micro|mic|den|dien|am thanh|anh sang|man hinh|led|sound|"
                     r"projector|speaker|generator)(?: \w+){0,3} (?:loi|hu|truc trac|su co|chet|khong (?:chay|len|"
                     r"hoat dong))\b")),
    ("budget", rx(r"\b(?:kinh phi|money|du toan|ngan sach|thanh toan|tam ung|chi phi|tai chinh|budget|funds|funding|"
                  r"cost|giai ngan)\b")),
    ("staffing", rx(r"\b(?:thieu|khong du|chua du|can them|xin them|short of|not enough|need more)(?: \w+){0,2} "
                    r"(?:nguoi|nhan luc|luc luong|tnv|tinh nguyen vien|can bo|nhan su|staff|people|volunteers)\b"
                    r"|\b(?:nhan luc|staffing|manpower|short handed|understaffed|sick|bi om|nghi om|om ca|om het|nghi viec)\b")),
    ("vendor", rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|xuong in|don vi cung cap|ncc|supplier|"
                  r"vendor|printer|contractor|nha xe|ben thue)\b")),
    ("approval", rx(r"\b(?:duyet|phe duyet|ky|ki|trinh ky|chu ky|xin y kien|y kien chi dao|approval|approve|approved|"
                    r"sign|signature|sign off)\b")),
    ("missing_input", rx(r"\b(?:chua|khong) (?:\w+ ){0,2}nhan duoc\b|\bchua nhan\b|\bnot received\b|\bhaven t received\b"
                         r"|\b(?:chua|khong) (?:thay|co|gui) (?:\w+ ){0,2}(?:danh sach|ds|so lieu|thong tin|ke hoach|"
                         r"van ban|cong van|file|tai lieu|noi dung|mau|kich ban|quyet dinh|huong dan|y kien)\b"
                         r"|\bthieu (?:thong tin|so lieu|danh sach|tai lieu|noi dung)\b|\bmissing\b|\bno input\b")),
    ("time", rx(r"\b(?:khong|chang) (?:\w+ )?kip\b|\bchua kip\b|\b(?:tre|qua han|tre han|het han|het thoi gian|"
                r"gap qua|late|behind|delay|delayed|deadline|gia han|extension)\b|\bcham\b(?! nhat)"
                r"|\bkhong du thoi gian\b")),
    ("dependency", rx(r"\b(?:wait|waiting|awaiting|phu thuoc|depends|dependency|dien luc|cong an)\b"
                      r"|\bben (?!em\b|minh\b|toi\b|nay\b)\w+")),
]
# Phrases that are blockers on their own, with their strength (2 = sure, 1 = likely).
INHERENT: list[tuple[re.Pattern, int]] = [
    (rx(r"\b(?:khong|chang) (?:\w+ )?kip\b|\b(?:tre han|qua han|xin gia han|behind schedule|late)\b|\b(?<!chi la )(?<!chi )(?<!hoi )cham\b(?! nhat)"), 2),
    (rx(r"\b(?:chi la|chi|hoi) cham\b"), 1),  # "chỉ là chậm một chút": late, not stuck
    (rx(r"\b(?:gia han|xin lui|lui lai|lui sang|lui han|doi han)\b"), 2),  # asks for more time
    (rx(r"\bchua kip\b|\bdelay|\bdelayed\b"), 1),
    (dict(REASON_KEYWORDS)["missing_input"], 2),
    (rx(r"\b(?:broken|mat dien|cup dien|mat nguon|chap dien|su co ky thuat|not working|malfunction)\b"
        r"|\b(?:may|loa|micro|mic|den|dien|am thanh|anh sang|man hinh|led|sound|projector|speaker|generator)"
        r"(?: \w+){0,3} (?:loi|hu|truc trac|su co|chet|khong (?:chay|len|hoat dong))\b"), 2),
    (rx(r"\b(?:het|thieu|khong|chua|khong co|chua co|khong du|chua du|chua duoc cap|chua giai ngan)(?: \w+){0,2} "
        r"(?:money|kinh phi|ngan sach|budget|funds)\b|\bover budget\b"), 2),
    (rx(r"\b(?:thieu|khong du|chua du|can them|xin them|short of|not enough|need more)(?: \w+){0,2} (?:nguoi|nhan luc|"
        r"luc luong|tnv|tinh nguyen vien|can bo|nhan su|staff|people|volunteers)\b|\b(?:short handed|understaffed)\b"), 2),
    (rx(r"\b(?:chua|khong) (?:duoc )?(?:duyet|phe duyet|ky|ki)\b"), 2),
    (rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|ncc|supplier|vendor|printer|contractor)(?: \w+){0,4} "
        r"(?:chua|cham|tre|khong|hasn|not)\b"), 2),
    (rx(r"\b(?:nha in|nha cung cap|doi tac|nha thau|cong ty|ben in|ncc|supplier|vendor|printer)(?: \w+){0,4} "
        r"(?:hen|moi)\b"), 1),
    (dict(REASON_KEYWORDS)["approver_away"], 1),
    (rx(r"\b(?:rain|storm|nang nong|nang gat|gio to|gio lon|ngap|lu|typhoon)\b"), 1),
    (rx(r"\b(?:phu thuoc|depends on)\b"), 1),
    (rx(r"\b(?:ben (?!em\b|minh\b|toi\b|nay\b)\w+|dien luc|cong an|ubnd)(?: \w+){0,3} chua\b(?! (?:a|anh|chi)?$)"), 1),
]

QUESTION = rx(r"\b(?:bao gio|khi nao|luc nao|hom nao|ngay nao|thu may|o dau|di dau|cho nao|cho dau|the nao|nhu nao|"
              r"lam sao|tai sao|vi sao|bao lau|cai gi|la gi|gi vay|gi the|nao|cho (?:em|minh|toi) hoi|"
              r"xin hoi|hoi chut|phai khong|dung khong|duoc khong|hay khong|co phai)\b"
              r"|\b(?<!chua duoc )(?<!khong duoc )(?<!chua co )(?<!khong co )(?<!chang duoc )bao nhieu\b"
              r"|\bcho (?:em|minh|toi|chau) xin\b|\bkhi (?:dau|mo)\b|\bmay (?:gio|nguoi|ban|cai|tieng|phut|chiec|bo|lan|diem)\b|\b(?<!khong )(?<!chua )(?<!thay )(?<!chua co )(?<!khong co )ai\b|^sao\b|\bsao (?:chua|khong|lai|the|vay|ma)\b"
              r"|^(?:what|when|where|who|which|why|how|should|does|shall)\b|^(?:is it|are we|do i|do we|can i|can we)\b")
QUESTION_TAIL = rx(r"\b(?!(?:em|toi|minh|ben|chung|anh|chi|khong|chua|van)\b)\w+ (?:khong|chua)"
                   r"(?: (?:a|anh|chi|em|nhi|nhe|ha|vay|the|ta))*$")
QUESTION_TAG = rx(r"\b(?:chua|khong|hay chua|hay khong) (?:\w+ )?(?:nhi|ta|ha|vay|ho|hem)$")
# A bare final "à/hả/hở" may ask ("xong rồi à?") or just stress ("mới được có 10% à"): not sure either way.
TAG_PARTICLE = rx(r"\b(?:qa|ha|ho|hem)(?: (?:anh|chi|em|a))?$")
# "khi nào có kinh phí thì em làm": a question word used as "when …, then …" is a condition.
_WHEN_THEN = r"\b(?:khi nao|bao gio|luc nao|hom nao|ngay nao)\b (?:\w+ ){0,6}?(?:thi|se|moi|em|minh|toi)\b"
WHEN_THEN = rx(_WHEN_THEN)
# "họp xong em báo", "xong việc này em làm việc kia": "xong" is "after", about something else
# (unless "đã"/"vừa" is among the two words before it: `clauses.mark` checks that).
AFTER = rx(r"\bxong (?!roi\b|het\b|ca\b|xuoi\b|luon\b|\d)(?:\w+ ){0,3}?(?:thi )?(?:em|minh|toi|ben em) "
           r"(?:se )?(?:bao|lam|gui|nop|in|chuyen|trien khai|xu ly|bat dau|tiep|goi|nhan|tra loi)\b")
# "họp xong rồi": the meeting is over, maybe not the task (unless the task was the meeting): not sure.
MEETING_DONE = rx(r"\b(?:hop|giao ban|tap huan|di cong tac|di)(?: \w+)? xong\b")
# "xong đâu mà xong", "làm gì đã xong", "ai bảo xong rồi": a completion denied.
DENIED = rx(r"\b(?:xong|hoan thanh) (?:dau|cai gi|gi|the nao) ma (?:xong|hoan thanh)\b|\b(?:lam gi|dau co|dau da|co dau|"
            r"chua he|nao da|ai bao|ai noi)(?: \w+)? (?:da )?(?:xong|hoan thanh)\b|\bcon lau moi (?:xong|hoan thanh)\b")
# "còn 50 đại biểu chưa gửi", "còn lại 3 điểm": work left, so a "đã phát hành …" before it is partial.
REMAINING = rx(r"\bcon (?:lai )?(?:\w+ ){0,4}chua (?:gui|lam|xong|treo|in|co|duoc|nhan|ky|giao|phat|dung|lap)\b"
               r"|\bcon (?:lai )?\d+\b(?! ?(?:%|phan tram))")
QUESTION_HAY = rx(r"\w+ hay \w+.*\b(?:a|nhi|vay|the|ha)$")

PARTICLES = frozenset("a anh chi em oi nhe nha nhen ah ha ak minh dong chi sep nhi the vay luon ne hihi haha hehe kaka keke".split())
ACK_WORDS = frozenset({"ok", "yes", "roi", "da", "thanks", "dong y"})
ACK_ONLY = rx(r"(?:(?:yes|ok|da|roi|vang|nhan|em nhan|da nhan|nhan roi|ro|clear|a|anh|chi|em|nhe|nha|oi) ?)+")
ACK_EXPLICIT = rx(r"(?<!chua )(?<!khong )\b(?:nhan|tiep nhan|got it|noted|received|roger|understood|will do|"
                  r"clear|nam duoc|da nam|nam roi|hieu roi|da biet|biet roi|copy)\b")
DATE_CONTEXT = frozenset("ngay den hen thu truoc sau luc tu han vao hom toi tuan chieu sang moi by on".split())

# ---------------------------------------------------------------- modality, stops, chatter (clause level)
# Time words that put a completion in the future; "đã"/"vừa"/"hôm qua" keep it in the past.
# Time words that put a completion in the future. "Weak" ones ("chiều nay", "tuần này") can also
# be past, so "đã"/"vừa"/"hôm qua" beside them keep the completion in the past; strong ones never do.
FUTURE = rx(r"\b(?:se|mai|ngay mai|sang mai|chieu mai|toi mai|lat nua|ti nua|tuan sau|tuan toi|thang sau|"
            r"thu \d|thu (?:hai|ba|tu|nam|sau|bay)|chu nhat|du kien|du tinh|nay mai|mai mot|hom sau|ngay kia|"
            r"moi xong|moi hoan thanh|nua la|sap toi|will|tomorrow|next week|soon|by (?:\w+day|the end)|"
            r"hope to)\b|\b(?:truoc|den|toi) (?:ngay )?\d+/\d+\b"
            r"|\b(?:xong|hoan thanh|lam) (?:ngay|lien)\b|\b(?:ngay|lien) (?:thoi|day|bay gio)\b")  # "xong ngay thôi" = soon
FUTURE_WEAK = rx(r"\b(?:chieu nay|toi nay|trua nay|sang nay|tuan nay|cuoi tuan|trong tuan|trong ngay|this week|"
                 r"tonight)\b")
PAST = rx(r"\b(?:da|vua|hom qua|hom truoc|tu hom|vua moi|already|yesterday)\b")
HOPE = rx(r"\b(?:hy vong|hi vong|mong|mong la|uoc|uoc gi|co gang|phan dau|quyet tam|hope|hopefully)\b"
          r"|\b(?:dinh|tinh|le ra|dang le|dang ra|can|phai|muon|should)(?= (?:\w+ ){0,2}(?:xong|hoan thanh|hoan tat)\b)")
CONDITION = rx(r"\b(?:neu|gia ma|gia nhu|mien la|mien sao|if|unless)\b|\b(?:duoc|xong|co|kip)(?: roi)? thi\b(?! phai(?: (?:a|anh|chi|em|nhi|day|nha|nhe))*$)|\bthi moi\b"
               r"|" + _WHEN_THEN)
IRONY = rx(r"\b(?:thi|la) (?:tot|hay|mung|vui|on)(?: qua| biet may| roi)?\b|\buoc gi\b|\blam nhu\b|\bcu nhu\b|\btuong\b|\bhoa ra\b|\bnhu (?:that|thiet)\b")
HEDGE = rx(r"\b(?:chac la|chac|hinh nhu|co le|thi phai|hay sao (?:ay|do)|khong chac|chua chac|nghe dau|maybe|probably|"
           r"i think|chua biet|khong biet|chua ro|khong ro)\b"
           rf"|\b{DONE_WORDS} (?:chua|hay chua|hay khong)\b")
DOUBLE_NEG = rx(rf"\b(?:khong phai|chang phai|dau phai) (?:la )?(?:chua|khong) (?:\w+ )?{DONE_WORDS}\b")
STOPPED = rx(r"\b(?:stop|tam ngung|tam dung|tam hoan|dung lai|bi dung|phai dung|dung thi cong|dung im|dung yen|"
             r"dung hinh|bi treo|treo lai|bi hoan|hoan lai|on hold|paused|stalled|(?:chua|khong) (?:co )?ai (?:lam|nhan|lo))\b"
             r"|\btreo (?:\w+ ){0,2}(?:hom|ngay|tuan)\b"
             r"|\b(?:dang|van|van dang) (?:bi )?treo(?= *(?:[,.;!]|$| (?:a|anh|chi|roi|ca|may|lau)\b))")
PEOPLE_AWAY = rx(r"\b(?:sick|bi om|om ca|om het|nghi om|nghi phep|di cong tac|vang mat|di vang|nghi viec|"
                 r"nghi het|nghi le|on leave)\b")
CHATTER = rx(r"\b(?:lat (?:em |minh )?(?:noi|bao|goi)|noi sau|bao sau|goi lai|dang o ngoai|dang lai xe|dang di duong|"
             r"nham nhom|gui nham|nham tin|nham cho|bo qua|alo|a lo|chuc mung|sinh nhat|"
             r"de em hoi lai|em hoi lai|toi em bao|ti em|(?:an (?:com|trua|sang|toi|chieu)|nghi trua|ngu|tam)(?: \w+)? xong\b|(?:chieu|toi|mai|lat|ti|chut|sau|ve)(?: nua)? (?:em |minh )?"
             r"(?:bao|nhan|goi|tra loi|nhan tin)(?: lai)?(?: (?:anh|chi|sau|nhe|nha|a))*$|\b\w+ xong (?:thi )?(?:em|minh) "
             r"(?:bao|nhan|goi|tra loi)\b|hoi lai (?:roi )?bao|wrong (?:group|chat)|ignore)\b"
             r"|^(?:yes |anh oi |chi oi )?(?:em |minh |toi )?dang (?:hop|ban|di duong|o ngoai|lai xe|nghi trua|an com)\b")
CORRECTION = rx(r"\b(?:bao nham|nham|gui nham|noi nham|ghi nham|dinh chinh|sua lai|correction|my mistake)\b")
OTHER_MATTER = rx(r"\b(?:viec khac|tin truoc|nham nhom|nham cho|bo qua|nham tin|another task)\b")
SUMMARY = rx(r"\b(?:nhin chung|tom lai|tong the|noi chung|den nay|hien tai|hien nay|tinh den nay|ket luan|"
             r"overall|in short|so far)\b")
FUTURE_WORK = rx(r"\b(?:trien khai|tien hanh|thuc hien|bat dau|lam|ban giao|nghiem thu|gui|nop|giao|xu ly|start|in|treo|"
                 r"lap|lap dat|dung|chuyen|phat|to chuc|hoan thien|sua|lien he|bao cao)\b")
CLAUSE_BREAK = frozenset({"nhung", "tuy nhien", "vi", "nen", "do do", "hoa ra", "but", "however",
                          "because"})
LAUGHTER = frozenset("hihi haha hehe kaka keke hic huhu lol".split())
