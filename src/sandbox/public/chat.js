// The web chat: plays a Telegram client for the real bot. Every action becomes a real Telegram
// update (text, own-contact share, button press) that the server hands to bot.handleUpdate;
// the transcript is what the bot sent through the Bot API.
import { api, el } from "./common.js";

const STRINGS = {
  en: {
    docTitle: "onewindow sandbox · web chat",
    skip: "Skip to the message box",
    title: "onewindow sandbox",
    badge: "sandbox · demo data",
    note: "The real bot, running on this machine with a stand-in for Telegram. Nothing here reaches a real insurer.",
    toConsole: "Insurer console →",
    ownerBar: "Who is chatting",
    owner: "Owner",
    newOwner: "New owner",
    language: "Language",
    langHint: "The language applies to new owners; an existing owner can switch with /language.",
    conversation: "Conversation",
    empty: "Tap “Start” or type /start to begin.",
    phoneLabel: "Your phone number (asked once per owner; sent as your own Telegram contact)",
    sharePhone: "Share contact",
    cancel: "Cancel",
    message: "Message",
    send: "Send",
    start: "Start",
    commands: "Commands",
    placeholder: "Message",
    bot: "Bot",
    you: "You",
    sharedContact: "Shared contact",
    edited: "edited",
    download: "Download",
    logLabel: "Conversation with the bot",
    keyboardLabel: "Reply keyboard",
    buttonsFor: "Buttons",
    buttonsUsed: "Buttons (already answered)",
    phoneHelp: "With the country code, for example +86 138 1234 5678.",
    phoneInvalid:
      "That is not a phone number. Type it with the country code, digits only, for example +86 138 1234 5678.",
    errNetwork: "The sandbox server did not answer. Check that it is still running, then try again.",
    errStale: "That button is no longer active. Use the newest message.",
    errNotFound: "This sandbox owner no longer exists. Pick another owner or make a new one.",
    errTooLong: "The message is empty or too long (at most 4096 characters).",
    errGeneric: "Something went wrong (error {status}). Try again.",
  },
  zh: {
    docTitle: "onewindow 沙盒 · 网页聊天",
    skip: "跳到输入框",
    title: "onewindow 沙盒",
    badge: "沙盒 · 演示数据",
    note: "真实的机器人在本机运行，Telegram 由本地替身代替。这里的任何内容都不会发给真实的保险公司。",
    toConsole: "保险公司控制台 →",
    ownerBar: "谁在聊天",
    owner: "车主",
    newOwner: "新车主",
    language: "语言",
    langHint: "语言设置用于新车主；已有车主可用 /language 切换。",
    conversation: "对话",
    empty: "点“开始”或输入 /start。",
    phoneLabel: "你的手机号（每位车主只问一次；作为你本人的 Telegram 联系人发送）",
    sharePhone: "分享联系人",
    cancel: "取消",
    message: "消息",
    send: "发送",
    start: "开始",
    commands: "命令",
    placeholder: "消息",
    bot: "机器人",
    you: "你",
    sharedContact: "已分享联系人",
    edited: "已编辑",
    download: "下载",
    logLabel: "与机器人的对话",
    keyboardLabel: "回复键盘",
    buttonsFor: "按钮",
    buttonsUsed: "按钮（已回答）",
    phoneHelp: "请带国家代码，例如 +86 138 1234 5678。",
    phoneInvalid: "这不是有效的手机号。请只用数字并带国家代码，例如 +86 138 1234 5678。",
    errNetwork: "沙盒服务器没有响应。请确认它仍在运行，然后重试。",
    errStale: "这个按钮已失效，请使用最新的消息。",
    errNotFound: "这个沙盒车主已不存在。请选择其他车主或新建一个。",
    errTooLong: "消息为空或太长（最多 4096 个字符）。",
    errGeneric: "出错了（错误 {status}）。请重试。",
  },
};

const $ = (id) => document.getElementById(id);
const logBox = $("log"); // the scroll box (role="log")
const log = $("messages"); // the list of messages inside it
const ownerSelect = $("owner-select");
const langSelect = $("lang-select");
const replyKeyboard = $("reply-keyboard");
const replyRows = $("reply-keyboard-rows");
const phoneForm = $("phone-form");
const phoneInput = $("phone-input");
const phoneError = $("phone-error");
const input = $("composer-input");
const toast = $("toast");
const errorBox = $("error");
const commandSelect = $("command-select");

let state = { owners: [], commands: { en: [], zh: [] } };
let current; // the selected owner entry
let version = -1;
let poller; // AbortController of the running long poll
const rendered = new Map(); // messageId → { sig, li, message }
const pressing = new Set(); // messageIds whose button press is on its way
let lastToastAt = 0;
let busy = Promise.resolve();
/** The page's own error shown now: { key, status } (re-translated when the language changes). */
let shownError;

const lang = () => (langSelect.value === "zh" ? "zh" : "en");
const t = (key, vars = {}) =>
  (STRINGS[lang()][key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));

function applyLanguage() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("docTitle");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  input.placeholder = t("placeholder");
  logBox.setAttribute("aria-label", t("logLabel"));
  fillCommands();
  if (shownError) showError(shownError);
  if (!phoneError.hidden) phoneError.textContent = t("phoneInvalid");
}

function fillCommands() {
  const list = (lang() === "zh" ? state.commands.zh : state.commands.en) ?? [];
  commandSelect.replaceChildren(
    el("option", { value: "" }, t("commands")),
    ...list.map((c) => el("option", { value: `/${c.command}` }, `/${c.command} — ${c.description}`)),
  );
}

// --- the page's own errors (never the bot's messages) -------------------------------------------

/** Which translated sentence an API or network failure gets. */
function errorKey(err) {
  const code = err?.data?.error?.code;
  if (code === "bad_phone") return "phoneInvalid";
  if (code === "stale_button") return "errStale";
  if (code === "not_found" || err?.status === 404) return "errNotFound";
  if (code === "bad_request") return "errTooLong";
  if (err?.status === undefined) return "errNetwork"; // fetch itself failed: no answer at all
  return "errGeneric";
}

function showError(error) {
  shownError = error;
  errorBox.textContent = t(error.key, { status: error.status ?? "" });
  errorBox.hidden = false;
}

function clearError() {
  shownError = undefined;
  errorBox.textContent = "";
  errorBox.hidden = true;
}

// --- phone numbers ---------------------------------------------------------------------------

const phoneKey = (id) => `onewindow-sandbox-phone-${id}`;
/** What a Telegram contact carries: digits with an optional "+", 6 to 15 of them (as the server checks). */
const normalPhone = (raw) => {
  const phone = String(raw ?? "")
    .trim()
    .replace(/[\s().-]/g, "");
  return /^\+?\d{6,15}$/.test(phone) ? phone : undefined;
};
function knownPhone(id) {
  const kept = sessionStorage.getItem(phoneKey(id));
  if (kept === null) return undefined;
  const phone = normalPhone(kept);
  // A number kept by an older page without checking it must never lock the owner out.
  if (!phone) sessionStorage.removeItem(phoneKey(id));
  return phone;
}

function showPhoneError(on) {
  phoneError.hidden = !on;
  phoneError.textContent = on ? t("phoneInvalid") : "";
  if (on) phoneInput.setAttribute("aria-invalid", "true");
  else phoneInput.removeAttribute("aria-invalid");
  phoneInput.setAttribute("aria-describedby", on ? "phone-help phone-error" : "phone-help");
}

// --- rendering -------------------------------------------------------------------------------

/**
 * Codes, dates, times and phone numbers stay on one line: "182-694", "2026-12-20",
 * "18:00–20:00", "2026年12月20日", "+86 138 1234 5678" never break inside.
 */
const UNBREAKABLE = new RegExp(
  [
    String.raw`\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2})?`, // 2026-12-20, 2026-12-20 18:00
    String.raw`\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日`, // 2026年12月20日
    String.raw`\d{1,2}:\d{2}(?:\s?[–-]\s?\d{1,2}:\d{2})?`, // 18:00–20:00
    String.raw`\+\d{1,3}(?: ?\d){6,14}|(?:\+\d{1,3} )?\d{3}\*{4}\d{4}`, // +86 138 1234 5678, 138****5678
    String.raw`(?<![\d-])\d{3}-\d{3}(?:-\d{4})?(?![\d-])`, // 182-694, 400-000-0001
  ].join("|"),
  "g",
);

/** A text node split into plain text and nowrap spans around the tokens above. */
function textWithTokens(text) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(UNBREAKABLE)) {
    const index = m.index ?? 0;
    if (index > at) frag.append(text.slice(at, index));
    frag.append(el("span", { class: "nowrap" }, m[0]));
    at = index + m[0].length;
  }
  if (at < text.length) frag.append(text.slice(at));
  return frag;
}

/** Telegram HTML parse mode, rebuilt from an allow-list (never innerHTML of bot text). */
function renderHtml(source) {
  const doc = new DOMParser().parseFromString(`<div>${source}</div>`, "text/html");
  const allowed = new Set([
    "B",
    "STRONG",
    "I",
    "EM",
    "U",
    "INS",
    "S",
    "STRIKE",
    "DEL",
    "CODE",
    "PRE",
    "BLOCKQUOTE",
    "A",
  ]);
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return textWithTokens(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return document.createTextNode("");
    const children = [...node.childNodes].map(walk);
    if (!allowed.has(node.tagName)) {
      const frag = document.createDocumentFragment();
      frag.append(...children);
      return frag;
    }
    const out = document.createElement(node.tagName.toLowerCase());
    if (node.tagName === "A") {
      const href = node.getAttribute("href") ?? "";
      if (/^(https?:|tg:)/i.test(href)) out.setAttribute("href", href);
      out.setAttribute("rel", "noopener noreferrer");
      out.setAttribute("target", "_blank");
    }
    out.append(...children);
    return out;
  };
  const frag = document.createDocumentFragment();
  frag.append(...[...doc.body.firstChild.childNodes].map(walk));
  return frag;
}

function renderText(m) {
  if (m.text === undefined) return null;
  const body = el("div", { class: "text" });
  if ((m.parseMode ?? "").toUpperCase() === "HTML") body.append(renderHtml(m.text));
  else body.append(textWithTokens(m.text));
  return body;
}

function renderMessage(m) {
  const who = m.from === "bot" ? t("bot") : t("you");
  const li = el("li", { class: `msg ${m.from}`, dataset: { messageId: m.messageId } });
  li.append(el("span", { class: "visually-hidden" }, `${who}: `));
  if (m.contact)
    li.append(
      el(
        "div",
        { class: "text contact" },
        `📇 ${t("sharedContact")} `,
        el("span", { class: "nowrap" }, m.contact.phone),
      ),
    );
  if (m.document) {
    const size = m.document.size < 1024 ? `${m.document.size} B` : `${Math.round(m.document.size / 1024)} KB`;
    li.append(
      el(
        "a",
        {
          class: "document",
          href: `/sandbox/api/files/${encodeURIComponent(m.document.fileId)}`,
          download: m.document.fileName,
        },
        `📄 ${m.document.fileName} (${size}) — ${t("download")}`,
      ),
    );
  }
  const text = renderText(m);
  if (text) li.append(text);
  if (m.inlineKeyboard?.length) {
    const group = el("div", { class: "inline-keyboard", role: "group", "aria-label": t("buttonsFor") });
    for (const row of m.inlineKeyboard) {
      const rowEl = el("div", { class: "row" });
      for (const b of row) {
        if (b.url) {
          rowEl.append(
            el("a", { class: "button", href: b.url, target: "_blank", rel: "noopener noreferrer" }, b.text),
          );
        } else {
          rowEl.append(
            el(
              "button",
              {
                type: "button",
                dataset: { callback: b.callbackData ?? "" },
                onclick: () => press(m.messageId, b.callbackData),
              },
              b.text,
            ),
          );
        }
      }
      group.append(rowEl);
    }
    li.append(group);
  }
  if (m.edited) li.append(el("span", { class: "meta" }, t("edited")));
  return li;
}

const hasCallbacks = (m) => (m?.inlineKeyboard ?? []).flat().some((b) => b.callbackData !== undefined);

/**
 * Which button rows can still be pressed: not one whose press is on its way, not one the owner
 * already answered (the transport marks it), and not one that a newer row replaced.
 */
function usedRow(messageId) {
  const entry = rendered.get(messageId);
  if (!entry || pressing.has(messageId) || entry.message.answered) return true;
  for (const [id, other] of rendered)
    if (id > messageId && other.message.from === "bot" && hasCallbacks(other.message)) return true;
  return false;
}

function updateKeyboards() {
  for (const [id, entry] of rendered) {
    if (!hasCallbacks(entry.message)) continue;
    const used = usedRow(id);
    const group = entry.li.querySelector(".inline-keyboard");
    group?.classList.toggle("used", used);
    group?.setAttribute("aria-label", t(used ? "buttonsUsed" : "buttonsFor"));
    for (const button of entry.li.querySelectorAll(".inline-keyboard button")) button.disabled = used;
  }
}

function focusNewestChoice() {
  const live = [...log.querySelectorAll("li.bot .inline-keyboard:not(.used) button:not(:disabled)")];
  (live.at(-1)?.closest(".inline-keyboard")?.querySelector("button:not(:disabled)") ?? input).focus();
}

function render(snapshot, fromAction = false) {
  if (!snapshot || snapshot.version === version) return;
  version = snapshot.version;
  const hadFocusInLog = logBox.contains(document.activeElement) && document.activeElement !== logBox;
  const seen = new Set();
  let previous = null;
  let added = false;
  for (const m of snapshot.messages) {
    seen.add(m.messageId);
    const sig = JSON.stringify(m) + lang();
    const existing = rendered.get(m.messageId);
    let li = existing?.li;
    if (!existing || existing.sig !== sig) {
      li = renderMessage(m);
      if (existing) existing.li.replaceWith(li);
      else if (previous) previous.after(li);
      else log.prepend(li);
      if (!existing) added = true;
      rendered.set(m.messageId, { sig, li, message: m });
    }
    previous = li;
  }
  for (const [id, entry] of rendered) {
    if (!seen.has(id)) {
      entry.li.remove();
      rendered.delete(id);
    }
  }
  $("empty").hidden = snapshot.messages.length > 0;
  updateKeyboards();

  replyRows.replaceChildren();
  const kb = snapshot.replyKeyboard;
  replyKeyboard.hidden = !kb;
  if (kb) {
    for (const row of kb.rows) {
      const rowEl = el("div", { class: "row" });
      for (const b of row) {
        // The bot's label as it is (it carries its own emoji, as Telegram shows it).
        rowEl.append(
          el(
            "button",
            {
              type: "button",
              class: b.requestContact ? "contact-button" : "",
              onclick: () => (b.requestContact ? shareContact() : sendText(b.text)),
            },
            b.text,
          ),
        );
      }
      replyRows.append(rowEl);
    }
    if (kb.placeholder) input.placeholder = kb.placeholder;
  } else {
    input.placeholder = t("placeholder");
  }

  if (snapshot.toast && snapshot.toast.at !== lastToastAt) {
    lastToastAt = snapshot.toast.at;
    toast.textContent = snapshot.toast.text;
  } else if (fromAction) {
    toast.textContent = ""; // the bot's toast answered an earlier tap
  }

  // Scroll the log box only (never the page) to the newest message.
  if (added || hadFocusInLog) logBox.scrollTop = logBox.scrollHeight;
  // A button that was focused may be gone or used: keep the keyboard user on the newest choices.
  if (hadFocusInLog && (!logBox.contains(document.activeElement) || document.activeElement.disabled)) {
    focusNewestChoice();
  }
}

async function pollLoop(ownerId, controller) {
  while (!controller.signal.aborted) {
    try {
      const snap = await api(`/sandbox/api/chats/${ownerId}?since=${version}`, { signal: controller.signal });
      if (!controller.signal.aborted && current?.id === ownerId) render(snap);
    } catch {
      if (controller.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function selectOwner(id) {
  current = state.owners.find((o) => o.id === id);
  poller?.abort();
  version = -1;
  rendered.clear();
  pressing.clear();
  log.replaceChildren();
  replyKeyboard.hidden = true;
  phoneForm.hidden = true;
  showPhoneError(false);
  toast.textContent = "";
  clearError();
  if (!current) return;
  ownerSelect.value = String(id);
  langSelect.value = current.languageCode;
  applyLanguage();
  $("lang-hint").hidden = true;
  poller = new AbortController();
  pollLoop(current.id, poller);
  history.replaceState(null, "", `#owner-${id}`);
}

function fillOwners() {
  ownerSelect.replaceChildren(
    ...state.owners.map((o) =>
      el(
        "option",
        { value: String(o.id) },
        `${o.firstName} (${o.languageCode === "zh" ? "中文" : "English"})`,
      ),
    ),
  );
  if (current) ownerSelect.value = String(current.id);
}

/**
 * Runs one update at a time, in order, and renders the answer. Resolves to true when the
 * server took it (then any error of the page is cleared), else shows a translated error.
 */
function post(body) {
  if (!current) return Promise.resolve(false);
  const id = current.id;
  const run = busy.then(async () => {
    try {
      const snap = await api(`/sandbox/api/chats/${id}/updates`, { method: "POST", body });
      if (current?.id === id) {
        clearError();
        render(snap, true);
      }
      return true;
    } catch (err) {
      if (current?.id === id) {
        if (errorKey(err) === "phoneInvalid") {
          // The server did not take the number: never keep it, ask again.
          sessionStorage.removeItem(phoneKey(id));
          openPhoneForm(true);
        } else showError({ key: errorKey(err), status: err?.status });
      }
      return false;
    }
  });
  busy = run;
  return run;
}

async function sendText(text) {
  const ok = await post({ text });
  // Nothing reached the bot: give the owner their text back to send again.
  if (!ok && input.value === "" && text !== "/start") input.value = text;
  return ok;
}

async function press(messageId, data) {
  if (usedRow(messageId)) return false; // pressed already, answered or replaced: never twice
  // A keyboard user keeps a focus on the newest choices when this row turns unpressable.
  const keyboardFocus =
    logBox.contains(document.activeElement) && document.activeElement.matches(":focus-visible");
  pressing.add(messageId);
  updateKeyboards();
  try {
    return await post({ press: { messageId, data } });
  } finally {
    pressing.delete(messageId);
    updateKeyboards();
    const lost = document.activeElement === document.body || document.activeElement?.disabled;
    if (keyboardFocus && lost) focusNewestChoice();
  }
}

function openPhoneForm(invalid = false) {
  phoneForm.hidden = false;
  showPhoneError(invalid);
  phoneInput.focus();
}

function shareContact() {
  const known = current ? knownPhone(current.id) : undefined;
  if (known) return post({ contact: { phone: known } });
  openPhoneForm();
}

async function newOwner() {
  try {
    const created = await api("/sandbox/api/owners", { method: "POST", body: { languageCode: lang() } });
    state.owners.push(created);
    fillOwners();
    selectOwner(created.id);
    input.focus();
  } catch (err) {
    showError({ key: errorKey(err), status: err?.status });
  }
}

phoneForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!current) return;
  const id = current.id;
  // Checked before anything is kept or sent: a typo only asks again.
  const phone = normalPhone(phoneInput.value);
  if (!phone) {
    showPhoneError(true);
    phoneInput.focus();
    return;
  }
  showPhoneError(false);
  if (await post({ contact: { phone } })) {
    sessionStorage.setItem(phoneKey(id), phone); // kept only once the bot has it
    phoneForm.hidden = true;
    phoneInput.value = "";
    input.focus();
  }
});
phoneInput.addEventListener("input", () => {
  if (!phoneError.hidden && normalPhone(phoneInput.value)) showPhoneError(false);
});
$("phone-cancel").addEventListener("click", () => {
  phoneForm.hidden = true;
  showPhoneError(false);
  input.focus();
});
$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  sendText(text);
});
$("start").addEventListener("click", () => sendText("/start"));
commandSelect.addEventListener("change", () => {
  const value = commandSelect.value;
  commandSelect.value = "";
  if (value) sendText(value);
});
$("new-owner").addEventListener("click", () => newOwner());
ownerSelect.addEventListener("change", () => selectOwner(Number(ownerSelect.value)));
langSelect.addEventListener("change", async () => {
  applyLanguage();
  for (const [, entry] of rendered) entry.sig = "";
  if (current && current.languageCode !== lang()) {
    // The Telegram client's language_code changes; the bot keeps an owner's chosen language.
    try {
      const updated = await api(`/sandbox/api/owners/${current.id}/language`, {
        method: "POST",
        body: { languageCode: lang() },
      });
      current.languageCode = updated.languageCode;
      fillOwners();
      $("lang-hint").hidden = false;
      clearError();
    } catch (err) {
      showError({ key: errorKey(err), status: err?.status });
    }
  }
});

async function init() {
  state = await api("/sandbox/api/state");
  fillOwners();
  const wanted = Number(/^#owner-(\d+)$/.exec(location.hash)?.[1] ?? NaN);
  const initial = state.owners.find((o) => o.id === wanted) ?? state.owners.at(-1);
  if (initial) selectOwner(initial.id);
  else {
    langSelect.value = navigator.language?.startsWith("zh") ? "zh" : "en";
    applyLanguage();
    await newOwner();
  }
  // Opened from a window's stop link (/sandbox/stop/<token>): tap the deep link, once.
  const start = new URLSearchParams(location.search).get("start");
  if (start && /^stop_[A-Za-z0-9_-]{1,58}$/.test(start) && current) {
    history.replaceState(null, "", location.pathname + location.hash);
    await sendText(`/start ${start}`);
  }
}

applyLanguage();
init().catch((err) => {
  showError({ key: errorKey(err), status: err?.status });
});
