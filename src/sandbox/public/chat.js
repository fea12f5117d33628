// The web chat: plays a Telegram client for the real bot. Every action becomes a real Telegram
// update (text, own-contact share, button press) that the server hands to bot.handleUpdate;
// the transcript is what the bot sent through the Bot API.
import { api, el } from "./common.js";

const STRINGS = {
  en: {
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
  },
  zh: {
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
  },
};

const $ = (id) => document.getElementById(id);
const log = $("log");
const ownerSelect = $("owner-select");
const langSelect = $("lang-select");
const replyKeyboard = $("reply-keyboard");
const replyRows = $("reply-keyboard-rows");
const phoneForm = $("phone-form");
const phoneInput = $("phone-input");
const input = $("composer-input");
const toast = $("toast");
const commandSelect = $("command-select");

let state = { owners: [], commands: { en: [], zh: [] } };
let current; // the selected owner entry
let version = -1;
let poller; // AbortController of the running long poll
const rendered = new Map(); // messageId → { sig, li }
let lastToastAt = 0;
let busy = Promise.resolve();

const lang = () => (langSelect.value === "zh" ? "zh" : "en");
const t = (key) => STRINGS[lang()][key] ?? STRINGS.en[key] ?? key;

function applyLanguage() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  input.placeholder = t("placeholder");
  log.setAttribute("aria-label", t("logLabel"));
  fillCommands();
}

function fillCommands() {
  const list = (lang() === "zh" ? state.commands.zh : state.commands.en) ?? [];
  commandSelect.replaceChildren(
    el("option", { value: "" }, t("commands")),
    ...list.map((c) => el("option", { value: `/${c.command}` }, `/${c.command} — ${c.description}`)),
  );
}

const phoneKey = (id) => `onewindow-sandbox-phone-${id}`;

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
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
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
  else body.textContent = m.text;
  return body;
}

function renderMessage(m) {
  const who = m.from === "bot" ? t("bot") : t("you");
  const li = el("li", { class: `msg ${m.from}`, dataset: { messageId: m.messageId } });
  li.append(el("span", { class: "visually-hidden" }, `${who}: `));
  if (m.contact)
    li.append(el("div", { class: "text contact" }, `📇 ${t("sharedContact")} ${m.contact.phone}`));
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

function render(snapshot) {
  if (!snapshot || snapshot.version === version) return;
  version = snapshot.version;
  const hadFocusInLog = log.contains(document.activeElement);
  const seen = new Set();
  let previous = null;
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
      rendered.set(m.messageId, { sig, li });
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

  replyRows.replaceChildren();
  const kb = snapshot.replyKeyboard;
  replyKeyboard.hidden = !kb;
  if (kb) {
    for (const row of kb.rows) {
      const rowEl = el("div", { class: "row" });
      for (const b of row) {
        rowEl.append(
          el(
            "button",
            {
              type: "button",
              class: b.requestContact ? "contact-button" : "",
              onclick: () => (b.requestContact ? shareContact() : sendText(b.text)),
            },
            b.requestContact ? `📱 ${b.text}` : b.text,
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
  }

  const last = log.lastElementChild;
  last?.scrollIntoView({ block: "end" });
  // A button that was focused may be gone: keep the keyboard user on the newest choices.
  if (hadFocusInLog && !log.contains(document.activeElement)) {
    const next = [...log.querySelectorAll("li.bot button")]
      .at(-1)
      ?.closest(".inline-keyboard")
      ?.querySelector("button");
    (next ?? input).focus();
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
  log.replaceChildren();
  replyKeyboard.hidden = true;
  phoneForm.hidden = true;
  toast.textContent = "";
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

/** Runs one update at a time, in order, and renders the answer. */
function post(body) {
  if (!current) return Promise.resolve();
  const id = current.id;
  busy = busy
    .then(async () => {
      const snap = await api(`/sandbox/api/chats/${id}/updates`, { method: "POST", body });
      if (current?.id === id) render(snap);
    })
    .catch((err) => {
      toast.textContent = err.message;
    });
  return busy;
}

const sendText = (text) => post({ text });
const press = (messageId, data) => post({ press: { messageId, data } });

function shareContact() {
  const known = sessionStorage.getItem(phoneKey(current?.id));
  if (known) return post({ contact: { phone: known } });
  phoneForm.hidden = false;
  phoneInput.focus();
}

async function newOwner() {
  const created = await api("/sandbox/api/owners", { method: "POST", body: { languageCode: lang() } });
  state.owners.push(created);
  fillOwners();
  selectOwner(created.id);
  input.focus();
}

phoneForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const phone = phoneInput.value.trim();
  if (!phone || !current) return;
  sessionStorage.setItem(phoneKey(current.id), phone);
  phoneForm.hidden = true;
  phoneInput.value = "";
  post({ contact: { phone } }).then(() => input.focus());
});
$("phone-cancel").addEventListener("click", () => {
  phoneForm.hidden = true;
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
    const updated = await api(`/sandbox/api/owners/${current.id}/language`, {
      method: "POST",
      body: { languageCode: lang() },
    });
    current.languageCode = updated.languageCode;
    fillOwners();
    $("lang-hint").hidden = false;
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

init().catch((err) => {
  toast.textContent = err.message;
});
