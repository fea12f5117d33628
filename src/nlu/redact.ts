/**
 * Redaction before any text leaves for an LLM (DESIGN §8, §9): phone numbers, plate numbers,
 * e-mail addresses and personal names become placeholders. Dates, times and counts survive
 * ("7月31日", "2027-03-15", "18:00", "3 times"), so the text still reads as a preference.
 *
 * The heuristics lean towards redacting: a false positive costs the LLM a word, a miss leaks
 * personal data. `replacements` holds the originals for the caller's own use (tests, counts);
 * it must never be logged.
 */

export type RedactionKind = "PHONE" | "PLATE" | "EMAIL" | "NAME";

export interface Redaction {
  kind: RedactionKind;
  /** The original text that was replaced. Personal data: never log it. */
  value: string;
}

export interface RedactResult {
  text: string;
  replacements: Redaction[];
}

export interface RedactOptions {
  /**
   * Words never taken for a name (case-insensitive), e.g. the insurer directory's names and
   * aliases, so "this is Allianz" or "我是平安的客户" keep the insurer.
   */
  keep?: readonly string[];
}

const placeholder = (kind: RedactionKind) => `[${kind}]`;

/** Full-width ASCII letters, digits and the symbols of addresses and numbers → ASCII. */
const halfWidth = (s: string) =>
  s.replace(/[０-９Ａ-Ｚａ-ｚ＋＠．－（）]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

// ---------------------------------------------------------------------------------------------
// E-mail addresses

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

// ---------------------------------------------------------------------------------------------
// Plate numbers

/** The one-character province abbreviations that open a mainland Chinese plate. */
const PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领";

/**
 * 粤B·12345, 京A12345, 沪AD12345 (new energy, six characters), 粤B 1234学; the separator may be
 * a middle dot, a dot, a hyphen or a space. Letters in either case (people type "粤b12345").
 */
const CN_PLATE = new RegExp(
  `[${PROVINCES}]\\s?[A-Za-z]\\s?[·•・.\\-]?\\s?[A-Za-z0-9]{4,6}[挂学警港澳试超领使]?(?![A-Za-z0-9])`,
  "g",
);

/** "plate AB12 CDE", "reg: AB12CDE", "车牌号：B12345": whatever follows the word, if it holds a digit. */
const PLATE_AFTER_WORD =
  /(\b(?:(?:licen[cs]e |number |registration )?plates?(?: number| no\.?)?|registration(?: number)?|reg(?: no\.?)?)\b(?: is)?:?\s*|车牌(?:号码?)?(?:是|为)?[:：]?\s*)((?=[A-Za-z0-9·-]*\d)[A-Za-z0-9][A-Za-z0-9·-]{1,7}(?: [A-Za-z0-9]{2,4}(?![A-Za-z0-9]))?)(?![A-Za-z0-9])/gi;

// ---------------------------------------------------------------------------------------------
// Phone numbers

/**
 * A run of digits with the separators phone numbers are written with (space, hyphen, dot,
 * brackets), optionally opened by "+" (E.164). Whether it is a phone number is decided by
 * {@link isPhone}: at least 7 digits and not shaped like a date or a time range.
 */
const PHONE_CANDIDATE = /(?<![0-9])(?:\+\s?)?\(?\d(?:[ \t.\-()]{0,2}\d)+\)?(?![0-9])/g;

/** Digit runs that are dates or times, never phone numbers, even with 7 or more digits. */
const NOT_PHONE_SHAPES = [
  /^(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}$/, // 2027-03-15, 2027.3.15
  /^\d{1,2}[-./]\d{1,2}[-./](?:19|20)?\d{2}$/, // 15.08.2027, 08-15-27
  /^(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$/, // 20270315
  /^\d{1,2}[.:]\d{2}\s?-\s?\d{1,2}[.:]\d{2}$/, // 18.00-21.00
];

const digitCount = (s: string) => s.replace(/\D/g, "").length;

function isPhone(candidate: string): boolean {
  const digits = digitCount(candidate);
  if (candidate.startsWith("+")) return digits >= 7 && digits <= 15;
  return digits >= 7 && !NOT_PHONE_SHAPES.some((re) => re.test(candidate));
}

/**
 * The replacement for one candidate run. A date written next to a number ("2027-03-15
 * 13800138000") is peeled off first, so it survives while the number goes.
 */
function redactDigitRun(run: string, found: Redaction[]): string {
  const parts = run.split(/(\s+)/);
  if (parts.length >= 3) {
    const first = parts[0] ?? "";
    const last = parts[parts.length - 1] ?? "";
    if (NOT_PHONE_SHAPES.some((re) => re.test(first)))
      return `${first}${parts[1]}${redactDigitRun(parts.slice(2).join(""), found)}`;
    if (NOT_PHONE_SHAPES.some((re) => re.test(last)))
      return `${redactDigitRun(parts.slice(0, -2).join(""), found)}${parts[parts.length - 2]}${last}`;
  }
  if (!isPhone(run)) return run;
  found.push({ kind: "PHONE", value: run });
  return placeholder("PHONE");
}

// ---------------------------------------------------------------------------------------------
// Names

/** Capitalised words that follow "I'm" / "this is" but are not names. */
const NOT_NAMES = `
  Monday Tuesday Wednesday Thursday Friday Saturday Sunday Mon Tue Tues Wed Thu Thur Thurs Fri Sat
  Sun Mondays Tuesdays Wednesdays Thursdays Fridays Saturdays Sundays January February March April
  May June July August September October November December Jan Feb Mar Apr Jun Jul Aug Sep Sept
  Oct Nov Dec Today Tomorrow Tonight Weekdays Weekends Not Only Just Fine Ok Okay Available Free
  Busy Happy Sure Away Off Back Done Also Still Here Sorry Interested Good Great Glad Afraid
  Insured With From In On At The A An Going Looking Renewing Trying Writing Calling Texting
  Wondering Planning Currently Usually Always Never It That What Who English Chinese Telegram
  Email Sms Please Thanks Hi Hello Hey Dear Yes No Sir Madam
`
  .split(/\s+/)
  .filter(Boolean);

const NOT_NAME = `(?!(?:${NOT_NAMES.join("|")})\\b)`;
/** "Anna", "O'Brien", "Mary-Jane"; not the "'s" of "Brown's". */
const EN_NAME_WORD = `${NOT_NAME}[A-Z][a-z]+(?:['’][A-Z][a-z]+|-[A-Z]?[a-z]+)?`;
const EN_NAME = `${EN_NAME_WORD}(?:[ \\t]+${EN_NAME_WORD}){0,2}`;

/** "my name is Wei Zhang", "I'm Anna", "this is Tom Lee", "Mr. Smith", "Regards, Anna". */
const EN_NAME_RULES: RegExp[] = [
  new RegExp(`(\\b[Mm]y (?:full )?name(?: is|'s|’s)\\s+|\\b[Nn]ame:\\s*)(${EN_NAME})`, "g"),
  new RegExp(`(\\b(?:I am|I'm|I’m|Im|[Tt]his is|[Ii]t's|[Ii]t’s)\\s+)(${EN_NAME})`, "g"),
  new RegExp(`(\\b(?:Mr|Mrs|Ms|Miss|Dr|Mx)\\.?\\s+)(${EN_NAME})`, "g"),
  new RegExp(
    `((?:^|[.!?\\n]\\s*)(?:[Tt]hanks|[Tt]hank you|[Rr]egards|[Bb]est|[Cc]heers|[Yy]ours)[,!]?\\s+)(${EN_NAME})(?=\\s*[.!]?\\s*$)`,
    "g",
  ),
];

/**
 * Common Chinese surnames by frequency, less the ones that open everyday words after "我是"
 * (车主, 明天, 司机, 单身, 时候, 和, 全款, 路过, 成都, 应该, 党员, 商量).
 */
const SURNAMES =
  "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农卓古吉缪简项连芦麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝";
const COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|司徒|夏侯|长孙|宇文|端木";

/** Characters that end a Chinese given name: particles, numerals and the words of this domain. */
const NAME_STOP =
  "的了是在想要我你他她们和跟与或及把被给让请问说就都也还只不别没很到从用打发短电话微信邮件保险车牌续期号日年周星礼拜点半上下午早晚今后前第一二三四五六七八九十两几每个最提工先女小太老师经阿";

const SURNAME = `(?:${COMPOUND_SURNAMES}|[${SURNAMES}])`;
const GIVEN = `[^${NAME_STOP}\\P{Script=Han}]`;
const HONORIFICS = "先生|女士|小姐|太太|老师|师傅|阿姨";
const LATIN_NAME = "[A-Za-z][A-Za-z'’-]+(?:[ \\t]+[A-Z][a-z]+)?";

/** Surnames that form ordinary words after 老/小 (小于, 小时, 小米, 老是...), left out there. */
const LAO_XIAO_SURNAMES = [...SURNAMES]
  .filter((c) => !"于何米石金钱江方常向龙万高白安文华".includes(c))
  .join("");

const ZH_NAME_RULES: RegExp[] = [
  // 我叫X / 名字是X / 联系人：X — whatever follows is a name (a nickname, a Latin name).
  new RegExp(
    `((?:我叫|我名叫|名字(?:是|叫)|姓名(?:是|[:：])|联系人(?:是|[:：])?|称呼我)\\s*)(${SURNAME}${GIVEN}{0,2}|${GIVEN}{1,3}|${LATIN_NAME})`,
    "gu",
  ),
  // 我是X / 本人X: only when X opens with a surname (我是车主, 我是说 stay), never 周五.
  new RegExp(`((?:我是|我就是|本人)\\s*)(?!周[一二三四五六日天末])(${SURNAME}${GIVEN}{0,2})`, "gu"),
  // 我姓王
  new RegExp(`(我姓)(${SURNAME})`, "gu"),
  // 张先生, 王女士, 李小姐, 陈伟先生
  new RegExp(`()(${SURNAME}${GIVEN}{0,2}?)(?=${HONORIFICS})`, "gu"),
  // 老王, 小李
  new RegExp(`([老小])([${LAO_XIAO_SURNAMES}])`, "gu"),
];

// ---------------------------------------------------------------------------------------------

/**
 * Replaces phone numbers, plate numbers, e-mail addresses and personal names in `text` with
 * [PHONE], [PLATE], [EMAIL] and [NAME]. Order matters: e-mails first (they hold names and
 * digits), then plates (they hold digit runs), then phone numbers, then names. Full-width
 * letters, digits and "＋＠．－" are read as their ASCII forms first, so "１３８…" is caught too;
 * everything else (Chinese punctuation included) is left as written.
 */
export function redact(text: string, options: RedactOptions = {}): RedactResult {
  const replacements: Redaction[] = [];
  const keep = (options.keep ?? []).map((w) => halfWidth(w).trim().toLowerCase()).filter(Boolean);
  const kept = (name: string) => {
    const v = name.toLowerCase();
    return keep.some((k) => v === k || v.startsWith(k) || (v.length >= 2 && k.startsWith(v)));
  };

  let out = halfWidth(text);

  out = out.replace(EMAIL, (m) => {
    replacements.push({ kind: "EMAIL", value: m });
    return placeholder("EMAIL");
  });

  out = out.replace(CN_PLATE, (m) => {
    if (!/\d/.test(m)) return m; // "京AB" + letters is not a plate
    replacements.push({ kind: "PLATE", value: m });
    return placeholder("PLATE");
  });
  out = out.replace(PLATE_AFTER_WORD, (_m, lead: string, plate: string) => {
    replacements.push({ kind: "PLATE", value: plate });
    return `${lead}${placeholder("PLATE")}`;
  });

  out = out.replace(PHONE_CANDIDATE, (m) => redactDigitRun(m, replacements));

  const replaceName = (m: string, lead: string, name: string) => {
    if (kept(name)) return m;
    replacements.push({ kind: "NAME", value: name });
    return `${lead}${placeholder("NAME")}`;
  };
  for (const rule of [...EN_NAME_RULES, ...ZH_NAME_RULES]) out = out.replace(rule, replaceName);

  return { text: out, replacements };
}
