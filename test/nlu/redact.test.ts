import { describe, expect, it } from "vitest";
import { type RedactionKind, redact } from "../../src/nlu/redact.js";
import { directory } from "./fixtures/directory.js";

const keep = directory.flatMap((e) => [e.name, ...e.aliases]);

/** [input, redacted text, the kinds replaced in order of kind then position]. */
const cases: [string, string, RedactionKind[]][] = [
  // phone numbers
  ["call +86 138 0013 8000 please", "call [PHONE] please", ["PHONE"]],
  ["+8613800138000", "[PHONE]", ["PHONE"]],
  ["+1 (415) 555-0100 after 6pm", "[PHONE] after 6pm", ["PHONE"]],
  ["my cell is 415.555.0100", "my cell is [PHONE]", ["PHONE"]],
  ["(021) 5555-1234 or 010-12345678", "[PHONE] or [PHONE]", ["PHONE", "PHONE"]],
  ["电话13800138000，7月31日到期", "电话[PHONE]，7月31日到期", ["PHONE"]],
  ["手机：138-0013-8000", "手机：[PHONE]", ["PHONE"]],
  ["手机 １３８００１３８０００", "手机 [PHONE]", ["PHONE"]],
  ["tel13912345678", "tel[PHONE]", ["PHONE"]],
  ["到期2027-03-15 13800138000", "到期2027-03-15 [PHONE]", ["PHONE"]],
  ["5551234", "[PHONE]", ["PHONE"]],
  // plate numbers
  ["车牌粤B·12345", "车牌[PLATE]", ["PLATE"]],
  ["京A12345的车", "[PLATE]的车", ["PLATE"]],
  ["沪AD12345 new energy", "[PLATE] new energy", ["PLATE"]],
  ["粤b 1234学", "[PLATE]", ["PLATE"]],
  ["浙A-D1234到期了", "[PLATE]到期了", ["PLATE"]],
  ["车牌号：B12345", "车牌号：[PLATE]", ["PLATE"]],
  ["my plate is AB12 CDE", "my plate is [PLATE]", ["PLATE"]],
  ["reg: XY99ZZZ", "reg: [PLATE]", ["PLATE"]],
  // e-mail addresses
  ["mail wei.zhang+car@example.com.cn", "mail [EMAIL]", ["EMAIL"]],
  ["邮箱 wangfang88@qq.com 就行", "邮箱 [EMAIL] 就行", ["EMAIL"]],
  // names, English
  ["Hi, my name is Wei Zhang.", "Hi, my name is [NAME].", ["NAME"]],
  ["I'm Anna, text only", "I'm [NAME], text only", ["NAME"]],
  ["I am Tom Lee", "I am [NAME]", ["NAME"]],
  ["this is Maria from Shenzhen", "this is [NAME] from Shenzhen", ["NAME"]],
  ["Mr. Brown's car", "Mr. [NAME]'s car", ["NAME"]],
  ["expires soon. Thanks, John", "expires soon. Thanks, [NAME]", ["NAME"]],
  // names, Chinese
  ["我叫张伟，只要平安", "我叫[NAME]，只要平安", ["NAME"]],
  ["我叫张伟想问一下", "我叫[NAME]想问一下", ["NAME"]],
  ["我是王芳，周末可以", "我是[NAME]，周末可以", ["NAME"]],
  ["本人李娜7月到期", "本人[NAME]7月到期", ["NAME"]],
  ["名字是欧阳娜娜", "名字是[NAME]", ["NAME"]],
  ["联系人：刘德华", "联系人：[NAME]", ["NAME"]],
  ["我叫Tom", "我叫[NAME]", ["NAME"]],
  ["我姓赵", "我姓[NAME]", ["NAME"]],
  ["张先生，王女士，陈伟先生", "[NAME]先生，[NAME]女士，[NAME]先生", ["NAME", "NAME", "NAME"]],
  ["老王说的，小李也行", "老[NAME]说的，小[NAME]也行", ["NAME", "NAME"]],
  // several at once
  [
    "我叫张伟，手机13912345678，车牌京A88888，邮箱 zw@163.com",
    "我叫[NAME]，手机[PHONE]，车牌[PLATE]，邮箱 [EMAIL]",
    ["EMAIL", "PLATE", "PHONE", "NAME"],
  ],
];

/** Text that must come through unchanged: dates, times, counts, insurers, ordinary words. */
const untouched = [
  "7月31日",
  "2027-03-15",
  "2027年5月1日",
  "15/08/2027",
  "15.08.2027",
  "20270315",
  "18:00",
  "18:00-21:00",
  "18.00-21.00",
  "9-12",
  "3 times",
  "提前10天，最多3次",
  "from 2 weeks before, at most 2 calls",
  "weekdays after 6, text only",
  "I'm busy on Friday",
  "I'm not sure, call me after 6",
  "This is Ping An?",
  "I'm with Allianz",
  "我是平安的客户",
  "我是安联的",
  "我是车主",
  "我是周五有空",
  "我是明年到期",
  "小于3次",
  "下午两小时",
  "只要人保和太平洋",
  "保险7月底到期，只要平安，工作日晚上发短信就行",
  "my insurance runs out end of July, only Ping An may call, after 6 on weekdays, nobody else",
  "别给我打电话",
  "registration is due 2027-03-15",
];

describe("redact", () => {
  it.each(cases)("%s", (input, expected, kinds) => {
    const { text, replacements } = redact(input, { keep });
    expect(text).toBe(expected);
    expect(replacements.map((r) => r.kind)).toEqual(kinds);
    for (const r of replacements) expect(text).not.toContain(r.value);
  });

  it.each(untouched)("leaves %s alone", (input) => {
    expect(redact(input, { keep })).toEqual({ text: input, replacements: [] });
  });

  it("returns the originals it replaced", () => {
    const { replacements } = redact("I'm Anna, +86 138 0013 8000, 粤B·12345, anna@example.com");
    expect(replacements).toEqual([
      { kind: "EMAIL", value: "anna@example.com" },
      { kind: "PLATE", value: "粤B·12345" },
      { kind: "PHONE", value: "+86 138 0013 8000" },
      { kind: "NAME", value: "Anna" },
    ]);
  });

  it("takes an insurer for a name only when not told to keep it", () => {
    expect(redact("我是安联的").text).toBe("我是[NAME]的");
    expect(redact("我是安联的", { keep }).text).toBe("我是安联的");
  });
});
