/**
 * What the owner is doing with a message (DESIGN §8), read from cues of tense, aspect and
 * speech act rather than from the fields a message mentions: "PICC called me yesterday" tells
 * of a contact that happened (a report), "PICC may call me" states a wish (preferences). Only
 * `preferences` may change a draft, so where the cues disagree the reading that changes
 * nothing wins.
 */
import type { PreferencePatch } from "../../domain/preferences.js";
import type { Intent } from "../reading.js";

/** What else the rules found, which the intent depends on. */
export interface IntentContext {
  /** The preference patch the same text yields (empty when it settles nothing). */
  patch: PreferencePatch;
  /** Directory insurers, or names that look like insurers', the text mentions. */
  namesInsurer: boolean;
  /** A name fits several insurers: the message chose one of them, the bot asks which. */
  ambiguous?: boolean;
}

// --- report: a particular contact that already happened -------------------------------------

/** A contact told in the past tense: "called me", "got a text", "打来", "发了短信". */
const CONTACT_HAPPENED = new RegExp(
  [
    // The caller did it ("Ping An rang me", "they texted", "emailed me yesterday").
    "\\b(?<!\\b(?:one|app|thing|bot|be|being|been|get|getting) )(?:called|rang|phoned|texted|txted|messaged|emailed|e-mailed|dialled|dialed|sms(?:'|e)?d|whatsapped|wechatted|contacted|spammed|pinged|harassed)\\b",
    "\\b(?:got|had|received|get|getting|just got|answered|picked up|missed) (?:a |an |another |the |two |three |\\d+ |several |many |some |multiple |like \\w+ )?(?:phone |sales |spam |scam |robo ?|cold |weird |suspicious |strange |missed )?(?:calls?|texts?|sms|messages?|emails?|e-mails?|voicemails?|phone calls?)\\b",
    "\\b(?:a|the|this|that|some) (?:guy|woman|man|lady|girl|person|agent|caller|salesman|saleswoman|rep) (?:from|who|saying|claiming|said)\\b",
    "打来|打过来|打给我了|打了我|打了?[一二两三四五六七八九十几好\\d]+[次遍个]|打电话(?:来|过来|给我)(?!.{0,2}[吗吧])|来(?:过)?电话了?|来电了",
    "(?:给我|跟我)?(?:打|发)了(?:个|条|封|几|一|两)?(?:电话|短信|邮件|消息|信息|email|sms)|(?:打|发)(?:电话|短信|邮件|消息|信息)(?:来|过来)?了|发来|发给我(?:了|的)|(?<!不想再?|不要再?|别再|不再|不想)收到(?:了)?.{0,10}(?:短信|电话|邮件|消息|信息|email)|接到(?:了)?.{0,10}(?:电话|短信|来电)",
    // A time, then what someone did ("人保上周六给我发短信", "结果昨天又打"): a story, not a wish.
    "(?:昨天|前天|上周.|上星期.|上礼拜.|今天|今早|今晚|刚才|刚刚|结果)[^,.;!?，。；！？可能只别不要]{0,12}(?:给我|跟我)?(?:打|发|来电|联系)",
  ].join("|"),
  "i",
);

/**
 * Cues that a particular contact happened whatever else the message says: a caller who kept
 * on after a refusal, claimed to be someone, could not quote the code, or whose genuineness the
 * owner asks about ("有人冒充平安给我打电话怎么办").
 */
const CONTACT_CERTAIN = new RegExp(
  [
    "\\b(?:keeps?|kept|still|won'?t stop|wouldn'?t stop|didn'?t stop|hasn'?t stopped|haven'?t stopped) (?:on )?(?:calling|ringing|texting|phoning|messaging|emailing|bugging|bombing|harassing|spamming|contacting|sending)\\b",
    "\\b(?:calling|ringing|texting|messaging) (?:me )?(?:again|nonstop|non-stop|like crazy)\\b|\\b(?:called|rang|texted|emailed|messaged) (?:me )?again\\b",
    "\\b(?:someone|somebody|a guy|a woman|a man|a lady|a person|some guy|some lady|an agent|a caller|the caller|he|she) (?:said|says|claimed|claiming|saying|pretended|pretending)\\b",
    "\\b(?:pretend(?:ed|ing)? to be|claim(?:ed|ing) to be|impersonat\\w*|posing as|saying (?:they|he|she) (?:were|was|are|is) from)\\b",
    "\\b(?:hung up|wouldn'?t say|couldn'?t (?:tell|give|say|quote|provide)|could not (?:tell|give|say|quote)|didn'?t (?:know|have|give|tell|say) (?:me )?(?:the |a |any )?code|said the code|quoted (?:the |a |me )?(?:the )?code|the code (?:was|they gave|he gave|she gave)|gave (?:me )?(?:a |the )?code)\\b",
    "\\b(?:is|was) (?:this|that|it|he|she) (?:call |caller |number |text |message )?(?:really|actually|truly|legit|real|genuine|a scam|fake|for real)\\b|\\breally (?:from )?(?:them|ping an|picc|cpic|allianz)\\?",
    "(?:又|还在|天天|老是|总是|每天都|仍然|依然|照样|继续)(?:在)?(?:给我)?(?:打|发|来电|联系|骚扰)|一直(?:在)?(?:给我)?(?:打电话|发短信|打|骚扰)|还(?:在)?(?:给我)?(?:打|发|来电)(?![算开])",
    "冒充|假冒|假装是|自称|说是.{0,10}(?:的|公司|客服|人)|说(?:他|她|自己)是|报不出|说不出|答不上|不知道验证码|没报|问(?:他|她|对方)(?:要)?验证码|验证码(?:说|报)|报了.{0,4}(?:验证码|码)|加(?:了)?我微信|是真的吗|是不是(?:真的|骗子)|是骗子吗|骗子吧",
  ].join("|"),
  "i",
);

/** A particular time ("yesterday", "刚才", "at 10") or a particular caller anchors a contact. */
const PARTICULAR =
  /\b(?:yesterday|today|tonight|this (?:morning|afternoon|evening)|last (?:night|week|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|just now|an hour ago|\w+ (?:minutes?|hours?) ago|earlier|on (?:mon|tue|wed|thu|fri|sat|sun)\w*|again|still|keeps?|kept)\b|\bat \d|昨天|今天|今早|今晚|刚才|刚刚|刚|前天|上周|上星期|上礼拜|上午|下午|早上|晚上|半夜|凌晨|中午|又|还在|\d点/i;

/** Experience in general ("last year I got forty calls a day"): not a report by itself. */
const GENERAL_PAST =
  /\blast year\b|\bevery (?:year|day)\b|\bevery time\b|去年|每年|往年|以前|之前每|那段时间/i;

// --- renewed --------------------------------------------------------------------------------

const RENEWED = new RegExp(
  [
    "\\b(?:al+re?a?dy|just|i'?ve|i have|we'?ve|we have|i|we|has been|have been|was|got it|it'?s|its|is) (?:\\w+ )?(?:renewed|renued|renewd|renwed)\\b",
    "\\b(?:renewed|renued) (?:it|my|the|with|online|already|last|this|through|at|same|yesterday|today)\\b",
    "\\b(?:sorted|done|did|took care of|handled|finished|completed|paid) (?:my |the |our )?(?:car )?(?:insurance )?renewal\\b",
    "\\brenewal (?:is|was|'s|has been) (?:done|sorted|taken care of|complete|completed|paid|finished)\\b",
    "\\b(?:already|just) (?:bought|got|paid for) (?:a |the |my )?(?:new )?(?:policy|insurance|cover)\\b",
    "^\\s*renewed\\b",
    "已经?续(?:保|好|了|完)|续(?:保)?(?:已经)?(?:办完|办好|好了|完了|完成|过了)|续保了|续了(?!吗)|已续|renew了|已经renew|买好了?(?:新的)?(?:保险|车险)|已经买了(?:保险|车险)|保险(?:已经)?(?:买|办)好了",
  ].join("|"),
  "i",
);
/** Renewing still to come ("I renew myself", "准备续保"): a choice of nobody, not "renewed". */
const WILL_RENEW =
  /\b(?:will|'ll|going to|gonna|want to|need to|plan to|about to|before i|until i|to) renew\b|\bhaven'?t (?:yet )?renewed\b|\bnot (?:yet )?renewed\b|还没续|没续|准备续|打算续|要续|想续|自己续保(?!了)/i;

// --- stop -----------------------------------------------------------------------------------

/** Asking for contact to end from now on ("stop PICC", "让人保别再打了", "unsubscribe"). */
const STOP_ASKED = new RegExp(
  [
    "\\b(?:stop|unsubscribe|unsub|opt (?:me )?out|block|blacklist|remove|quit|cancel|back off|leave me alone|no more)\\b",
    "\\b(?:can'?t|cannot|may not|must not|shouldn'?t|should not|won'?t|don'?t want (?:\\w+ )?to) (?:\\w+ )?(?:contact|call|text|message|email) (?:me )?(?:any ?more|again|from now on)\\b",
    "\\bnot (?:\\w+ )?(?:any ?more|again)\\b",
    "别再|不要再|不许再|不准再|不想再|不用再|以后别|以后不要|停掉|停止|停了|停下|让他们停|退订|拉黑|屏蔽|取消(?!.{0,4}(?:订单|外卖))|叫.{1,10}别|让.{1,10}别|\\bstop\\b",
  ].join("|"),
  "i",
);

/** Whom a stop may name as "everyone" ("all of them", "所有保险公司"). */
export const EVERYONE_WORDS =
  /\b(?:everyone|everybody|all of them|all insurers|every insurer|all (?:the )?(?:insurance )?compan(?:y|ies)|all (?:the )?insurers|them all|each of them|any insurer)\b|所有(?:的)?(?:保险)?(?:公司)?|全部|谁都|都别|统统|一律/i;

/** A permission in the same message ("only X may call", "只要平安"): the message states a choice. */
const PERMITS =
  /\bonly\b|\bjust\b|\b(?:may|can|could) (?:call|contact|text|email|message|reach)\b(?<!n'?t \w+)|\bis (?:ok|okay|fine)\b|\bare (?:ok|okay|fine)\b|只要|只让|只允许|只能|可以(?:联系|打|发)|没问题/i;

// --- question, and the rest -----------------------------------------------------------------

const QUESTION =
  /[?？]|^\s*(?:how|what|what'?s|whats|who|whom|why|where|when|which|is|are|am|can|could|do|does|did|will|would|should|may|shall|any)\b|\b(?:how (?:do|does|can|to|long|much)|what (?:is|are|does|do|happens|if)|who (?:can|sees|gets|will)|is (?:it|my|this|there)|do you|does (?:it|this|the bot|onewindow)|i wonder|tell me (?:how|what|why))\b|怎么|怎样|如何|什么|为什么|为啥|哪里|哪儿|哪个|哪些|谁|吗|是否|能不能|可不可以|会不会|有没有|是不是|多少钱|收费|免费|干嘛|干什么/i;

/** A question about the service or the owner's data, even when it names an insurer or a channel. */
const ABOUT_THE_SERVICE =
  /\b(?:see|sees|get|gets|know|knows|learn|access|sell|sells|share|shares|store|stores|keep|keeps|find out|found out|use|uses)\b.{0,30}\b(?:my|me|number|phone|data|details|info|information|name)\b|\b(?:safe|secure|free|cost|charge|legit|real|scam|work|works|delete|export|change|cancel|complain|report|file)\b.{0,20}[?？]|\bwhat(?:'s| is) .{0,20} for\b|看到|看得到|知道|拿到|得到|获取|泄露|卖|安全|收费|免费|删除|导出|投诉|举报|怎么|如何|为什么|为啥|什么|哪里/i;

/** Thanks, greetings, acknowledgements and laughter: nothing to act on. */
const SOCIAL =
  /^(?:\s|[\p{P}\p{S}\p{Emoji_Presentation}]|ok(?:ay)?|k+|cool|great|thanks?|thank you|thx|ty|hi|hey|hello|yo|bye|good ?night|lol|haha|got it|noted|sure|fine|nice|好的?|好嘞|嗯+|哦+|谢谢|多谢|你好|哈+|收到|晚安|明白|知道了|行|可以)+$/iu;

/** Whether a message is only thanks, a greeting, an acknowledgement or laughter. */
export function isSocial(text: string): boolean {
  return SOCIAL.test(text.normalize("NFKC").trim());
}

/** Words of the choice itself: the expiry, who may contact, how. */
const PREFERENCE_TALK =
  /\b(?:expir\w*|renewal (?:date|is|'s)|runs? out|policy (?:ends?|is up)|due (?:on|in))\b|到期|保单.{0,4}(?:到|截止)|续保日/i;

/**
 * The intent of one message, given what else the rules read in it. In order: a particular
 * contact that happened is a `report`, even when it asks or complains ("PICC called me
 * yesterday — how do I report this?"); then a finished renewal; then a request to stop named
 * insurers or everyone; then a question about the service; then a preference patch; then a
 * bare question; anything else is `other`.
 */
export function readIntent(text: string, ctx: IntentContext): Intent {
  const settled = Object.keys(ctx.patch).length > 0 || ctx.ambiguous === true;
  if (isReport(text, ctx, settled)) return "report";
  if (RENEWED.test(text) && !WILL_RENEW.test(text)) return "renewed";
  if (STOP_ASKED.test(text) && (ctx.namesInsurer || EVERYONE_WORDS.test(text))) {
    // "Only Acme, block the rest" states a choice; "stop PICC" asks for one to end.
    if (!(ctx.patch.insurers !== undefined && PERMITS.test(text))) return "stop";
  }
  if (QUESTION.test(text)) {
    // "What's the weather tomorrow?" settles a date by accident; a question about the choice
    // ("can Ping An call me on weekends?") names more than a date.
    const onlyADate = Object.keys(ctx.patch).every((k) => k === "renewalDate") && !PREFERENCE_TALK.test(text);
    if (!settled || onlyADate || ABOUT_THE_SERVICE.test(text)) return "question";
  }
  if (settled) return "preferences";
  // "My insurance expires next year" talks about the choice without settling it: the question
  // is asked again, rather than the message being passed over.
  if (!SOCIAL.test(text) && PREFERENCE_TALK.test(text)) return "preferences";
  return "other";
}

/** Where the first cue of a contact that happened is, or -1: the report's details are read near it. */
export function contactCueAt(text: string): number {
  const at = [CONTACT_CERTAIN.exec(text)?.index, CONTACT_HAPPENED.exec(text)?.index].filter(
    (i): i is number => i !== undefined,
  );
  return at.length > 0 ? Math.min(...at) : -1;
}

function isReport(text: string, ctx: IntentContext, settled: boolean): boolean {
  // "Last year I got forty calls a day; this year only PICC" is background to a choice: a
  // sentence about experience in general tells of no particular contact.
  const told = text
    .split(/[.!?;。！？；\n]+/)
    .filter((sentence) => !(settled && GENERAL_PAST.test(sentence)))
    .join(". ");
  if (CONTACT_CERTAIN.test(told)) return true;
  if (!CONTACT_HAPPENED.test(told)) return false;
  return PARTICULAR.test(told) || ctx.namesInsurer;
}
