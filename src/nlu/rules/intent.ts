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
    "\\b(?<!\\b(?:one|app|thing|bot|be|being|been|get|getting|account|number|channel|group|page|handle) )(?:called|rang|phoned|telephoned|texted|txted|messaged|emailed|e-mailed|dialled|dialed|sms(?:'|e)?d|whatsapped|wechatted|telegrammed|contacted|spammed|pinged|harassed)\\b",
    // "yesterday PICC call me two times": a past time and the plain verb.
    "\\b(?:yesterday|today|this morning|last night|just now|tonight)\\b.{0,30}\\b(?:call|calls|text|texts|message|email|ring|rings)\\s+me\\b|\\b(?:by )?calling me\\b",
    "\\b(?:msg|message|text|sms|call|email|e-mail|voicemail|voice mail) from\\b",
    "\\b(?:got|had|received|get|getting|just got|answered|picked up|missed) (?:a |an |another |the |two |three |\\d+ |several |many |some |multiple |like \\w+ )?(?:phone |sales |spam |scam |robo ?|cold |weird |suspicious |strange |missed )?(?:calls?|texts?|sms|messages?|emails?|e-mails?|voicemails?|phone calls?)\\b",
    "\\b(?:a|the|this|that|some) (?:guy|woman|man|lady|girl|person|agent|caller|salesman|saleswoman|rep) (?:from|who|saying|claiming|said)\\b",
    "打来|打过来|打给我了|打了我|(?:call|text|email|打)\\s*了\\s*我|(?:打|发|来)的(?=[!！。，,]|$)|(?:打电话|发短信|发信息|发消息|来电话)(?:来|过来)?说|电话又来了|又来(?:电话|短信)|(?:打|发)(?:电话|短信|邮件|消息|信息)给我了|打了?[一二两三四五六七八九十几好\\d]+[次遍个]|打电话(?:来|过来|给我)(?!.{0,2}[吗吧])|来(?:过)?电话了?|来电了",
    "(?:给我|跟我)?(?:打|发)了(?:个|条|封|几|一|两)?(?:电话|短信|邮件|消息|信息|email|sms|telegram|tg|微信)|(?:打|发)(?:电话|短信|邮件|消息|信息)(?:来|过来)?了|发来|发给我(?:了|的)|(?<!不想再?|不要再?|别再|不再|不想)收到(?:了)?.{0,10}(?:短信|电话|邮件|消息|信息|email)|接到(?:了)?.{0,10}(?:电话|短信|来电)",
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
    "\\b(?:is|was) (?:this|that|it|he|she) (?:call |caller |number |text |message )?(?:really|actually|truly|legit|real|genuine|a scam|fake|for real)\\b|\\breally (?:from )?(?:them|ping an|picc|cpic|allianz)\\?|\\blegit\\s*\\?|\\bscam\\s*\\?|\\byour code is\\b",
    "\\b(?:guy|woman|man|lady|someone|somebody|caller|person|agent) on the (?:phone|line)\\b|\\bstill (?:called|texted|emailed|messaged|telegrammed|rang)\\b",
    // A forwarded message: "Fwd: …", "【中国平安】尊敬的车主…".
    "^\\s*(?:fwd?|forwarded|转发)\\s*[:：]|【[^】]{2,12}】",
    "加(?:了)?我(?:的)?(?:好友|微信|QQ)|第[二三四五六七八九十\\d]+次了",
    "(?:打电话|发短信|发信息|发消息|来电话)(?:来|过来)?说|(?:打|发)的(?=[!！。.\\s]|$)",
    "(?:打电话|发短信|发信息|发消息|来电话)(?:来|过来)?说|(?:打|发)的(?=[!！。.\\s]|$)",
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
    "\\b(?:renewed|renued)\\b",
    "\\b(?:sorted|done|did|took care of|handled|finished|completed|paid|bundled)(?: \\w+){0,3} renewal\\b",
    "\\b(?:switched to|moved to|went with)\\b.{0,30}\\b(?:already|new policy|last)\\b|\\bnew policy (?:started|began|is active|kicked in)\\b|\\b(?:bought|got|took out) (?:a |the )?new policy\\b",
    "\\brenewal (?:is|was|'s|has been) (?:done|sorted|taken care of|complete|completed|paid|finished)\\b",
    "\\b(?:already|just) (?:bought|got|paid for) (?:a |the |my )?(?:new )?(?:policy|insurance|cover)\\b",
    "^\\s*renewed\\b",
    "已经?续(?:保|好|了|完)|续的|续过了|续上了|renew\\s*(?:了|的)|交(?:过|了)钱|付(?:过|了)钱|已付款|顺手办了|(?:在|去)(?:店里|4S店)续了|续(?:保)?(?:已经)?(?:办完|办好|好了|完了|完成|过了)|续保了|续了(?!吗)|已续|renew了|已经renew|买好了?(?:新的)?(?:保险|车险)|已经买了(?:保险|车险)|保险(?:已经)?(?:买|办)好了",
  ].join("|"),
  "i",
);
/** Renewing still to come ("I renew myself", "准备续保"): a choice of nobody, not "renewed". */
const WILL_RENEW =
  /\b(?:will|'ll|going to|gonna|want to|need to|plan to|about to|before i|until i|to) renew\b|\b(?:gets?|will be|to be|be|being|needs? to be|should be|must be) renewed\b|\bwhen (?:it'?s|it is) renewed\b|\bhaven'?t (?:yet )?renewed\b|\bnot (?:yet )?renewed\b|还没续|没续|准备续|打算续|要续|想续|自己续保(?!了)/i;

// --- stop -----------------------------------------------------------------------------------

/** Asking for contact to end from now on ("stop PICC", "让人保别再打了", "unsubscribe"). */
const STOP_ASKED = new RegExp(
  [
    "\\b(?:stop|unsubscribe|unsub|opt (?:me )?out|block|blacklist|remove|quit|cancel|back off|leave me alone|no more|revoke|withdraw|get lost|done with|take (?:them|it|him|her|\\w+) off|(?:both|all|them) out|now no|no longer)\\b",
    "\\b(?:can'?t|cannot|may not|must not|shouldn'?t|should not|won'?t|don'?t want (?:\\w+ )?to) (?:\\w+ )?(?:contact|call|text|message|email) (?:me )?(?:any ?more|again|from now on)\\b",
    "\\bnot (?:\\w+ )?(?:any ?more|again)\\b",
    "别再|不要再|不许再|不准再|不想再|不用再|以后别|以后(?:都|也)?不要|停掉|停止|停了|停下|让他们停|退订|拉黑|屏蔽|取消(?!.{0,4}(?:订单|外卖))|撤销|撤回|去掉|删掉|拿掉|移除|去除|叫[^,，。]{1,10}?别(?!的|家|人)|让[^,，。]{1,10}?别(?!的|家|人)|\\bstop\\b",
  ].join("|"),
  "i",
);

/** Whom a stop may name as "everyone" ("all of them", "所有保险公司"). */
export const EVERYONE_WORDS =
  /\b(?:everyone|everybody|all of them|all insurers|every insurer|all (?:the )?(?:insurance )?compan(?:y|ies)|all (?:the )?insurers|them all|each of them|any insurer)\b|所有(?:的)?(?:保险)?(?:公司)?|全部|谁都|都别|统统|一律/i;

/** A permission in the same message ("only X may call", "只要平安"): the message states a choice. */
const PERMITS =
  /就?让[^,，。别不]{1,8}(?:给我)?(?:打电话|联系|发短信|打)(?:吧)?|\bonly\b|\bjust\b|\b(?:may|can|could) (?:call|contact|text|email|message|reach)\b(?<!n'?t \w+)|\bis (?:ok|okay|fine)\b|\bare (?:ok|okay|fine)\b|只要|只让|只允许|只能|可以(?:联系|打|发)|没问题/i;

// --- question, and the rest -----------------------------------------------------------------

const QUESTION =
  /[?？]|^\s*(?:how|what|what'?s|whats|who|whom|why|where|when|which|is|are|am|do|does|did|will|would|should|shall|(?:can|could|may) (?:i|we|you|u)\b)\b|\b(?:how (?:do|does|can|to|long|much|many|often)|what (?:is|are|does|do|happens|if)|who (?:can|sees|gets|will)|i wonder|tell me (?:how|what|why))\b|怎么|怎样|如何|什么|为什么|为啥|哪里|哪儿|哪个|哪些|谁(?![都也])|吗|是否|能不能|可不可以|会不会|有没有|是不是|多少钱|收费|免费|干嘛|干什么/i;

/** A question about the service or the owner's data, even when it names an insurer or a channel. */
const ABOUT_THE_SERVICE =
  /^\s*(?:does|do|did|is|are|was|were)\b|\bhow (?:many|much|long|often|do|does|can|would|should)\b|(?:那|那么)?.{0,10}还能.{0,10}吗|能买吗|是外国|靠谱吗|正规吗|合法吗|\b(?:see|sees|get|gets|know|knows|learn|access|sell|sells|share|shares|store|stores|keep|keeps|find out|found out|use|uses)\b.{0,30}\b(?:my|me|number|phone|data|details|info|information|name)\b|\b(?:safe|secure|free|cost|charge|legit|real|scam|work|works|delete|export|change|cancel|complain|report|file)\b.{0,20}[?？]|\bwhat(?:'s| is) .{0,20} for\b|看到|看得到|知道|拿到|得到|获取|泄露|卖|安全|收费|免费|删除|导出|投诉|举报|怎么|如何|为什么|为啥|什么|哪里/i;

/** Thanks, greetings, acknowledgements and laughter: nothing to act on. */
const SOCIAL =
  /^(?:\s|[\p{P}\p{S}\p{Emoji_Presentation}]|ok(?:ay)?|k+|cool|great|thanks?|thank you|thx|ty|hi|hey|hello|yo|bye|good ?(?:night|morning|afternoon|evening)|morning|lol|haha|got it|noted|sure|fine|nice|好的?|好嘞|嗯+|哦+|谢谢|多谢|你好|哈+|收到|晚安|早安|早上好|下午好|晚上好|在吗|在不在|有人吗|明白|知道了|行|可以)+$/iu;

/** Whether a message is only thanks, a greeting, an acknowledgement or laughter. */
export function isSocial(text: string): boolean {
  return SOCIAL.test(text.normalize("NFKC").trim());
}

/**
 * A complaint about contact ("我讨厌平安打电话", "PICC calls me on weekends, it's annoying",
 * "PICC has been calling"): about contacts that happen, so a report, never a choice.
 */
const COMPLAINT =
  /讨厌|烦死|烦人|好烦|太烦|很烦|骚扰|太多了|受不了|受够|吵醒|\b(?:annoying|annoyed|harass\w*|sick of|tired of|fed up|hate|woke me|keeps? getting|has been (?:calling|texting|ringing)|have been (?:calling|texting|ringing)|is (?:calling|texting|ringing) me|there was an? (?:call|text|message|email)|(?:calls|texts|emails|rings|messages) me (?:on|every|all|at|during|in|twice|again|non-?stop|constantly))\b/i;

/** A request that comes as a question ("can Allianz email me instead?"): still a statement of what the owner wants. */
const REQUEST =
  /\b(?:can|could|would|will) (?:you|u)\b|\b(?:can|could|may) [A-Za-z]+ (?:just )?(?:call|text|email|e-mail|message|contact)\b|\b(?:make it|change (?:it|that)|switch (?:it|to)|set (?:it|me)|instead|rather|please|pls)\b|能不能|可不可以|可以.{0,6}吗|改成|换成|帮我|请|\bi (?:never|didn'?t) (?:say|said|want|ask)|\bi said\b|不对|我说的是|不是/i;

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
  // "It was about to expire, so I renewed it at the dealer": a sentence that says it is done.
  if (sentences(text).some((x) => RENEWED.test(x) && !WILL_RENEW.test(x))) return "renewed";
  if (STOP_ASKED.test(text) && (ctx.namesInsurer || EVERYONE_WORDS.test(text))) {
    // "Only Acme, block the rest" states a choice; "stop PICC" asks for one to end.
    if (!(ctx.patch.insurers !== undefined && PERMITS.test(text))) return "stop";
  }
  if (SOCIAL.test(text)) return "other";
  // "我讨厌平安打电话", "PICC calls me on weekends, it's annoying": about contacts, not a choice —
  // unless the same message also says who may contact the owner or when the policy expires.
  if (COMPLAINT.test(text) && ctx.namesInsurer && !PERMITS.test(text) && !PREFERENCE_TALK.test(text))
    return "report";
  // A long message that settles answers is a statement, whatever it asks along the way.
  if (QUESTION.test(text) && !(settled && text.length > 200)) {
    // A question asks, whatever it names ("why does Ping An text me every evening?"), unless it
    // is a request in the form of a question ("can Allianz email me instead?").
    if (!settled || !REQUEST.test(text) || ABOUT_THE_SERVICE.test(text)) return "question";
  }
  if (settled) return "preferences";
  // "My insurance expires next year" talks about the choice without settling it: the question
  // is asked again, rather than the message being passed over.
  if (!SOCIAL.test(text) && PREFERENCE_TALK.test(text)) return "preferences";
  return "other";
}

/** The sentences of a message (and clauses of a Chinese one), for cues that hold sentence by sentence. */
function sentences(text: string): string[] {
  return text.split(/[.!?;。！？；\n]+|[，,](?=[^，,]{8,})/).filter((x) => x.trim() !== "");
}

/**
 * The part of a message a preference patch is read from: without the sentences that tell of
 * contacts, in particular or in general ("I want PICC. Ping An called me too often last year"
 * chooses PICC only). The whole text when nothing is left.
 */
export function statementText(text: string): string {
  const parts = text.split(/(?<=[.!?;。！？；，,\n])/);
  const kept = parts.filter(
    (x) =>
      !(
        CONTACT_CERTAIN.test(x) ||
        CONTACT_HAPPENED.test(x) ||
        (GENERAL_PAST.test(x) && CONTACT_WORD.test(x))
      ),
  );
  const joined = kept.join("");
  return kept.length === parts.length || joined.trim() === "" ? text : joined;
}

/** Contact words, for sentences of experience in general ("人保去年天天打电话"). */
const CONTACT_WORD = /电话|短信|打|\bcall|\btext|\bring|\bphone/i;

/**
 * Where the first cue of a contact that happened is (its start and end), or undefined: the
 * report's details, such as the channel, are read near it.
 */
export function contactCue(text: string): { start: number; end: number } | undefined {
  const found = [CONTACT_CERTAIN.exec(text), CONTACT_HAPPENED.exec(text)].filter(
    (m): m is RegExpExecArray => m !== null,
  );
  if (found.length === 0) return undefined;
  const first = found.reduce((a, b) => (b.index < a.index ? b : a));
  return { start: first.index, end: first.index + first[0].length };
}

/** "别再给我打了": an order not to call is no contact that happened. */
const FORBIDDEN_CONTACT =
  /(?:别|不要|不许|不准|以后别)(?:再)?(?:给我|跟我)?(?:打|发|联系)[^，。,.!！?？]{0,6}|\b(?:stop|quit|don'?t|do not|never)\s+(?:calling|ringing|texting|messaging|emailing|contacting|call|text|message|email|contact)(?:\s+me)?\b/gi;

/** "How do I know a caller is really Ping An?": a general question, not a particular call. */
const GENERAL_HOW =
  /怎么(?:判断|知道|分辨|确认|辨别|区分)|如何(?:判断|分辨|辨别|知道)|\bhow (?:do|can|would|should) (?:i|you|we|one) (?:know|tell|check|verify|spot|be sure)\b/i;

function isReport(text: string, ctx: IntentContext, settled: boolean): boolean {
  if (GENERAL_HOW.test(text) && !PARTICULAR.test(text.replace(GENERAL_HOW, " "))) return false;
  // "Last year I got forty calls a day; this year only PICC" is background to a choice: a
  // sentence about experience in general tells of no particular contact.
  const told = text
    .replace(FORBIDDEN_CONTACT, " ")
    .split(/[.!?;。！？；\n]+/)
    .filter((sentence) => !(settled && GENERAL_PAST.test(sentence)))
    .join(". ");
  if (CONTACT_CERTAIN.test(told)) return true;
  if (!CONTACT_HAPPENED.test(told)) return false;
  return PARTICULAR.test(told) || ctx.namesInsurer;
}
