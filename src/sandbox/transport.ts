/**
 * Telegram's Bot API, faked in-process at the HTTP boundary: the `fetch` that grammY's client
 * calls (`createBot({ fetch })`). Everything above it — conversations, sessions, i18n, rate
 * limits, every plugin — runs exactly as in production; only the wire to Telegram is replaced.
 *
 * It answers the methods the bot uses (sendMessage, editMessageText, editMessageReplyMarkup,
 * deleteMessage, answerCallbackQuery, sendDocument as multipart, setMyCommands, getMe, …) with
 * Telegram's shapes and errors, keeps each chat's transcript (the owner's messages too, so
 * message ids interleave as in Telegram), and builds the updates a user's client would send:
 * text, a shared contact, a button press carrying the message it belongs to.
 */
import { Buffer } from "node:buffer";
import type {
  BotCommand,
  CallbackQuery,
  Chat,
  InlineKeyboardMarkup,
  Message,
  Update,
  User,
  UserFromGetMe,
} from "grammy/types";
import { boundaryOf, parseMultipart } from "./multipart.js";

/** A fake token in the shape grammY expects; it never leaves the process. */
export const SANDBOX_TOKEN = "1000000001:SANDBOX-in-process-transport-no-network";

export const SANDBOX_BOT_INFO: UserFromGetMe = {
  id: 1_000_000_001,
  is_bot: true,
  first_name: "onewindow (sandbox)",
  username: "onewindow_sandbox_bot",
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
  supports_join_request_queries: false,
} as UserFromGetMe;

/** A button of an inline keyboard, as the page renders it. */
export interface InlineButton {
  text: string;
  callbackData?: string;
  url?: string;
}

/** A button of a reply keyboard. */
export interface ReplyButton {
  text: string;
  requestContact?: boolean;
}

/** A document the bot sent (bytes kept in memory for the download link). */
export interface SandboxFile {
  fileId: string;
  fileName: string;
  mimeType: string;
  bytes: Buffer;
}

/** One entry of a chat transcript, in the page's terms. */
export interface TranscriptMessage {
  messageId: number;
  from: "bot" | "user";
  /** Unix seconds. */
  date: number;
  text?: string;
  /** Telegram parse mode as sent ("HTML", "MarkdownV2", …), for the page's renderer. */
  parseMode?: string;
  entities?: unknown[];
  inlineKeyboard?: InlineButton[][];
  document?: { fileId: string; fileName: string; mimeType: string; size: number };
  /** A contact the owner shared (the phone is masked for display). */
  contact?: { phone: string };
  edited?: boolean;
  /**
   * The owner pressed one of this message's buttons and the chat moved on (a newer message)
   * without the bot refreshing this keyboard: the page shows those buttons as used.
   */
  answered?: boolean;
}

export interface ChatSnapshot {
  /** Bumped on every change; the page long-polls for a newer one. */
  version: number;
  messages: TranscriptMessage[];
  /** The reply keyboard the bot last set (undefined once removed). */
  replyKeyboard?: { rows: ReplyButton[][]; placeholder?: string };
  /** The latest callback answer that carried text (a toast or alert). */
  toast?: { text: string; alert: boolean; at: number };
}

/** Who the simulated Telegram user is. */
export interface SandboxUser {
  id: number;
  firstName: string;
  languageCode: string;
}

/** One Bot API call as the transport saw it (for tests and debugging). */
export interface TransportCall {
  method: string;
  payload: Record<string, unknown>;
  ok: boolean;
}

interface StoredMessage {
  view: TranscriptMessage;
  /** The Telegram Message object (for callback queries and edits). */
  tg: Message;
  /** The chat's last message id when one of this message's buttons was pressed (until an edit). */
  pressedAt?: number;
}

interface ChatState {
  version: number;
  lastMessageId: number;
  messages: Map<number, StoredMessage>;
  replyKeyboard?: ChatSnapshot["replyKeyboard"] & { oneTime: boolean };
  toast?: ChatSnapshot["toast"];
  waiters: Set<() => void>;
}

type Answer = { ok: true; result: unknown } | { ok: false; error_code: number; description: string };

class ApiFailure extends Error {
  constructor(
    readonly description: string,
    readonly code = 400,
  ) {
    super(description);
  }
}

const bad = (what: string) => new ApiFailure(`Bad Request: ${what}`);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const toNumber = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "string" && /^-?\d+$/.test(v)
      ? Number(v)
      : undefined;

/** Multipart fields are strings; these stay strings, JSON-looking ones are parsed. */
const STRING_KEYS = new Set(["text", "caption", "callback_query_id", "parse_mode", "language_code"]);
function coerce(key: string, value: string): unknown {
  if (STRING_KEYS.has(key) || value.startsWith("attach://")) return value;
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (/^-?\d+$/.test(value) && /(^|_)id$/.test(key)) return Number(value);
  if (value === "true" || value === "false") return value === "true";
  return value;
}

function mimeOf(fileName: string): string {
  const ext = fileName.split(".").pop()?.toLowerCase() ?? "";
  return (
    (
      { json: "application/json", txt: "text/plain", csv: "text/csv", pdf: "application/pdf" } as Record<
        string,
        string
      >
    )[ext] ?? "application/octet-stream"
  );
}

async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function headerOf(headers: unknown, name: string): string {
  if (!headers) return "";
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? "";
  for (const [k, v] of Object.entries(headers as Record<string, string>)) {
    if (k.toLowerCase() === name) return String(v);
  }
  return "";
}

function inlineKeyboardOf(markup: unknown): InlineKeyboardMarkup | undefined {
  if (markup === undefined) return undefined;
  if (!isRecord(markup)) throw bad("can't parse reply keyboard markup JSON object");
  const rows = markup.inline_keyboard;
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows)) throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');
  for (const row of rows) {
    if (!Array.isArray(row)) throw bad('field "inline_keyboard" must be an Array of Arrays');
    for (const button of row) {
      if (!isRecord(button) || typeof button.text !== "string") throw bad('can\'t find field "text"');
      const data = button.callback_data;
      if (
        data !== undefined &&
        (typeof data !== "string" || data.length < 1 || Buffer.byteLength(data) > 64)
      ) {
        throw bad("BUTTON_DATA_INVALID");
      }
    }
  }
  return markup as unknown as InlineKeyboardMarkup;
}

function buttonsOf(markup: InlineKeyboardMarkup | undefined): InlineButton[][] | undefined {
  if (!markup) return undefined;
  return markup.inline_keyboard.map((row) =>
    row.map((b) => ({
      text: b.text,
      ...("callback_data" in b && typeof b.callback_data === "string"
        ? { callbackData: b.callback_data }
        : {}),
      ...("url" in b && typeof b.url === "string" ? { url: b.url } : {}),
    })),
  );
}

/** The `fetch` grammY's client calls: `(url, init) → Promise<{ json() }>`. */
export type TransportFetch = (
  url: string | URL,
  init?: { body?: unknown; headers?: unknown },
) => Promise<Response>;

export interface SandboxTransport {
  /** Pass to `createBot({ fetch })` (cast to grammY's fetch type). */
  fetch: TransportFetch;
  /** Every call so far (bounded to the last 1000). */
  calls: TransportCall[];
  /** A chat's transcript now. */
  snapshot(chatId: number): ChatSnapshot;
  /** Resolves with the snapshot once its version exceeds `since`, or after `timeoutMs`. */
  waitForChange(
    chatId: number,
    since: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ChatSnapshot>;
  /** A document the bot sent, by file_id. */
  file(fileId: string): SandboxFile | undefined;
  /** Commands registered with setMyCommands for a language ("" is the default list). */
  commands(languageCode?: string): BotCommand[];
  /** Update builders; each also records the user's message in the transcript. */
  text(user: SandboxUser, text: string): Update;
  contact(user: SandboxUser, phone: string): Update;
  /** A button press on the bot's message `messageId`; throws if that message has no such button. */
  press(user: SandboxUser, messageId: number, data: string): Update;
  /** Wakes every waiting long poll (shutdown). */
  wakeAll(): void;
}

export function createSandboxTransport(botInfo: UserFromGetMe = SANDBOX_BOT_INFO): SandboxTransport {
  const chats = new Map<number, ChatState>();
  const files = new Map<string, SandboxFile>();
  const commands = new Map<string, BotCommand[]>();
  const callbackChats = new Map<string, number>();
  const calls: TransportCall[] = [];
  let updateId = 0;
  let fileCounter = 0;
  let callbackCounter = 0;
  const botUser: User = {
    id: botInfo.id,
    is_bot: true,
    first_name: botInfo.first_name,
    username: botInfo.username,
  };

  const chatState = (chatId: number): ChatState => {
    let state = chats.get(chatId);
    if (!state) {
      state = { version: 0, lastMessageId: 0, messages: new Map(), waiters: new Set() };
      chats.set(chatId, state);
    }
    return state;
  };
  const changed = (state: ChatState) => {
    state.version += 1;
    for (const w of [...state.waiters]) w();
  };
  const privateChat = (chatId: number, firstName = "Owner"): Chat.PrivateChat => ({
    id: chatId,
    type: "private",
    first_name: firstName,
  });
  const chatIdOf = (payload: Record<string, unknown>): number => {
    const id = toNumber(payload.chat_id);
    if (id === undefined) throw bad("chat_id is empty");
    if (id <= 0) throw bad("chat not found");
    return id;
  };
  const stored = (
    payload: Record<string, unknown>,
    what: string,
  ): { state: ChatState; msg: StoredMessage } => {
    const state = chatState(chatIdOf(payload));
    const id = toNumber(payload.message_id);
    const msg = id === undefined ? undefined : state.messages.get(id);
    if (msg === undefined) throw bad(`message to ${what} not found`);
    if (msg.view.from !== "bot") throw bad(`message to ${what} not found`);
    return { state, msg };
  };

  /** Applies a reply_markup's reply-keyboard part to the chat (set, remove, or leave). */
  const applyReplyMarkup = (state: ChatState, markup: unknown) => {
    if (!isRecord(markup)) return;
    if (markup.remove_keyboard === true) {
      state.replyKeyboard = undefined;
    } else if (Array.isArray(markup.keyboard)) {
      const rows = (markup.keyboard as unknown[]).map((row) =>
        (Array.isArray(row) ? row : []).map((b): ReplyButton => {
          if (typeof b === "string") return { text: b };
          const button = isRecord(b) ? b : {};
          return {
            text: String(button.text ?? ""),
            ...(button.request_contact === true ? { requestContact: true } : {}),
          };
        }),
      );
      state.replyKeyboard = {
        rows,
        oneTime: markup.one_time_keyboard === true,
        ...(typeof markup.input_field_placeholder === "string"
          ? { placeholder: markup.input_field_placeholder }
          : {}),
      };
    }
  };

  const addBotMessage = (
    chatId: number,
    fields: Partial<TranscriptMessage>,
    tgFields: Record<string, unknown>,
  ) => {
    const state = chatState(chatId);
    const messageId = ++state.lastMessageId;
    const date = nowSeconds();
    const tg = {
      message_id: messageId,
      from: botUser,
      chat: privateChat(chatId),
      date,
      ...tgFields,
    } as Message;
    state.messages.set(messageId, { view: { messageId, from: "bot", date, ...fields }, tg });
    changed(state);
    return tg;
  };

  const sameMarkup = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

  const handlers: Record<string, (p: Record<string, unknown>, uploads: Map<string, SandboxFile>) => unknown> =
    {
      getme: () => botInfo,
      deletewebhook: () => true,
      setwebhook: () => true,
      logout: () => true,
      close: () => true,
      setmycommands: (p) => {
        if (!Array.isArray(p.commands)) throw bad('field "commands" must be an Array');
        commands.set(typeof p.language_code === "string" ? p.language_code : "", p.commands as BotCommand[]);
        return true;
      },
      getmycommands: (p) => commands.get(typeof p.language_code === "string" ? p.language_code : "") ?? [],
      deletemycommands: (p) => commands.delete(typeof p.language_code === "string" ? p.language_code : ""),
      sendchataction: (p) => {
        chatIdOf(p);
        return true;
      },
      sendmessage: (p) => {
        const chatId = chatIdOf(p);
        if (typeof p.text !== "string" || p.text.trim() === "") throw bad("message text is empty");
        if (p.text.length > 4096) throw bad("message is too long");
        const inline = inlineKeyboardOf(p.reply_markup);
        applyReplyMarkup(chatState(chatId), p.reply_markup);
        return addBotMessage(
          chatId,
          {
            text: p.text,
            ...(typeof p.parse_mode === "string" ? { parseMode: p.parse_mode } : {}),
            ...(Array.isArray(p.entities) ? { entities: p.entities } : {}),
            ...(inline ? { inlineKeyboard: buttonsOf(inline) } : {}),
          },
          { text: p.text, ...(inline ? { reply_markup: inline } : {}) },
        );
      },
      senddocument: (p, uploads) => {
        const chatId = chatIdOf(p);
        const ref = p.document;
        const file =
          typeof ref === "string"
            ? ref.startsWith("attach://")
              ? uploads.get(ref.slice("attach://".length))
              : files.get(ref)
            : undefined;
        if (!file) throw bad("there is no document in the request");
        const caption = typeof p.caption === "string" ? p.caption : undefined;
        if (caption !== undefined && caption.length > 1024) throw bad("message caption is too long");
        const inline = inlineKeyboardOf(p.reply_markup);
        applyReplyMarkup(chatState(chatId), p.reply_markup);
        const document = {
          file_id: file.fileId,
          file_unique_id: `u${file.fileId}`,
          file_name: file.fileName,
          mime_type: file.mimeType,
          file_size: file.bytes.length,
        };
        return addBotMessage(
          chatId,
          {
            ...(caption !== undefined ? { text: caption } : {}),
            ...(typeof p.parse_mode === "string" ? { parseMode: p.parse_mode } : {}),
            document: {
              fileId: file.fileId,
              fileName: file.fileName,
              mimeType: file.mimeType,
              size: file.bytes.length,
            },
            ...(inline ? { inlineKeyboard: buttonsOf(inline) } : {}),
          },
          {
            document,
            ...(caption !== undefined ? { caption } : {}),
            ...(inline ? { reply_markup: inline } : {}),
          },
        );
      },
      editmessagetext: (p) => {
        if (p.inline_message_id !== undefined) return true;
        const { state, msg } = stored(p, "edit");
        if (typeof p.text !== "string" || p.text.trim() === "") throw bad("message text is empty");
        if (msg.view.text === undefined || msg.view.document)
          throw bad("there is no text in the message to edit");
        const inline = inlineKeyboardOf(p.reply_markup);
        if (p.text === msg.view.text && sameMarkup(inline, msg.tg.reply_markup)) {
          throw bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        const { reply_markup: _old, ...rest } = msg.tg;
        msg.tg = {
          ...rest,
          text: p.text,
          edit_date: nowSeconds(),
          ...(inline ? { reply_markup: inline } : {}),
        } as Message;
        const {
          inlineKeyboard: _oldButtons,
          entities: _oldEntities,
          parseMode: _oldMode,
          ...view
        } = msg.view;
        msg.view = {
          ...view,
          text: p.text,
          edited: true,
          ...(typeof p.parse_mode === "string" ? { parseMode: p.parse_mode } : {}),
          ...(Array.isArray(p.entities) ? { entities: p.entities } : {}),
          ...(inline ? { inlineKeyboard: buttonsOf(inline) } : {}),
        };
        msg.pressedAt = undefined; // the bot answered on this message: its keyboard is current
        changed(state);
        return msg.tg;
      },
      editmessagereplymarkup: (p) => {
        if (p.inline_message_id !== undefined) return true;
        const { state, msg } = stored(p, "edit");
        const inline = inlineKeyboardOf(p.reply_markup);
        if (sameMarkup(inline, msg.tg.reply_markup)) {
          throw bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          );
        }
        const { reply_markup: _old, ...rest } = msg.tg;
        msg.tg = { ...rest, edit_date: nowSeconds(), ...(inline ? { reply_markup: inline } : {}) } as Message;
        const { inlineKeyboard: _oldButtons, ...view } = msg.view;
        msg.view = { ...view, ...(inline ? { inlineKeyboard: buttonsOf(inline) } : {}) };
        msg.pressedAt = undefined;
        changed(state);
        return msg.tg;
      },
      deletemessage: (p) => {
        const { state, msg } = stored(p, "delete");
        state.messages.delete(msg.view.messageId);
        changed(state);
        return true;
      },
      deletemessages: (p) => {
        const state = chatState(chatIdOf(p));
        for (const id of Array.isArray(p.message_ids) ? p.message_ids : []) {
          const n = toNumber(id);
          if (n !== undefined && state.messages.get(n)?.view.from === "bot") state.messages.delete(n);
        }
        changed(state);
        return true;
      },
      answercallbackquery: (p) => {
        const id = typeof p.callback_query_id === "string" ? p.callback_query_id : "";
        const chatId = callbackChats.get(id);
        if (chatId === undefined)
          throw bad("query is too old and response timeout expired or query ID is invalid");
        callbackChats.delete(id);
        if (typeof p.text === "string" && p.text !== "") {
          const state = chatState(chatId);
          state.toast = { text: p.text, alert: p.show_alert === true, at: Date.now() };
          changed(state);
        }
        return true;
      },
    };

  const answerOf = (
    method: string,
    payload: Record<string, unknown>,
    uploads: Map<string, SandboxFile>,
  ): Answer => {
    const handler = handlers[method.toLowerCase()];
    try {
      return { ok: true, result: handler ? handler(payload, uploads) : true };
    } catch (err) {
      if (err instanceof ApiFailure) return { ok: false, error_code: err.code, description: err.description };
      return { ok: false, error_code: 500, description: `Internal Server Error: ${String(err)}` };
    }
  };

  const fetch: TransportFetch = async (url, init) => {
    const method = String(url).split("?")[0]?.split("/").pop() ?? "";
    const body = await readBody(init?.body);
    const type = headerOf(init?.headers, "content-type");
    const payload: Record<string, unknown> = {};
    const uploads = new Map<string, SandboxFile>();
    let answer: Answer;
    try {
      if (/^multipart\/form-data/i.test(type)) {
        for (const part of parseMultipart(body, boundaryOf(type))) {
          if (part.filename === undefined) {
            payload[part.name] = coerce(part.name, part.bytes.toString("utf8"));
          } else {
            const file: SandboxFile = {
              fileId: `sandbox-file-${++fileCounter}`,
              fileName: part.filename,
              mimeType: mimeOf(part.filename),
              bytes: part.bytes,
            };
            files.set(file.fileId, file);
            uploads.set(part.name, file);
          }
        }
      } else if (body.length > 0) {
        const parsed = JSON.parse(body.toString("utf8")) as unknown;
        if (!isRecord(parsed)) throw bad("request body must be a JSON object");
        Object.assign(payload, parsed);
      }
      answer = answerOf(method, payload, uploads);
    } catch (err) {
      answer = {
        ok: false,
        error_code: 400,
        description: err instanceof ApiFailure ? err.description : "Bad Request: invalid request body",
      };
    }
    calls.push({ method, payload, ok: answer.ok });
    if (calls.length > 1000) calls.splice(0, calls.length - 1000);
    return new Response(JSON.stringify(answer), {
      status: answer.ok ? 200 : answer.error_code,
      headers: { "content-type": "application/json" },
    });
  };

  const snapshot = (chatId: number): ChatSnapshot => {
    const state = chatState(chatId);
    return {
      version: state.version,
      messages: [...state.messages.values()]
        .map((m) =>
          m.view.inlineKeyboard && m.pressedAt !== undefined && state.lastMessageId > m.pressedAt
            ? { ...m.view, answered: true }
            : m.view,
        )
        .sort((a, b) => a.messageId - b.messageId),
      ...(state.replyKeyboard
        ? {
            replyKeyboard: {
              rows: state.replyKeyboard.rows,
              ...(state.replyKeyboard.placeholder ? { placeholder: state.replyKeyboard.placeholder } : {}),
            },
          }
        : {}),
      ...(state.toast ? { toast: state.toast } : {}),
    };
  };

  const from = (user: SandboxUser): User => ({
    id: user.id,
    is_bot: false,
    first_name: user.firstName,
    language_code: user.languageCode,
  });

  /** Records the user's own message (so message ids interleave) and returns it as Telegram would. */
  const userMessage = (
    user: SandboxUser,
    view: Partial<TranscriptMessage>,
    fields: Record<string, unknown>,
  ) => {
    const state = chatState(user.id);
    const messageId = ++state.lastMessageId;
    const date = nowSeconds();
    const message = {
      message_id: messageId,
      date,
      chat: privateChat(user.id, user.firstName),
      from: from(user),
      ...fields,
    } as Message;
    state.messages.set(messageId, { view: { messageId, from: "user", date, ...view }, tg: message });
    // A one-time reply keyboard hides once the user has answered.
    if (state.replyKeyboard?.oneTime) state.replyKeyboard = undefined;
    changed(state);
    return message;
  };

  /** The page shows a shared contact as its last four digits only. */
  const maskForDisplay = (phone: string) => `•••• ${phone.replace(/\D/g, "").slice(-4)}`;

  return {
    fetch,
    calls,
    snapshot,
    waitForChange(chatId, since, timeoutMs, signal) {
      const state = chatState(chatId);
      if (state.version > since) return Promise.resolve(snapshot(chatId));
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          state.waiters.delete(done);
          signal?.removeEventListener("abort", done);
          resolve(snapshot(chatId));
        };
        const timer = setTimeout(done, timeoutMs);
        state.waiters.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
    },
    file: (fileId) => files.get(fileId),
    commands: (languageCode = "") => commands.get(languageCode) ?? commands.get("") ?? [],
    text(user, text) {
      const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
      const message = userMessage(
        user,
        { text },
        {
          text,
          ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command[0].length }] } : {}),
        },
      );
      return { update_id: ++updateId, message } as Update;
    },
    contact(user, phone) {
      const message = userMessage(
        user,
        { contact: { phone: maskForDisplay(phone) } },
        // Telegram sends the number without "+" from most clients; user_id is the sender: their own card.
        { contact: { phone_number: phone.replace(/^\+/, ""), first_name: user.firstName, user_id: user.id } },
      );
      return { update_id: ++updateId, message } as Update;
    },
    press(user, messageId, data) {
      const state = chatState(user.id);
      const msg = state.messages.get(messageId);
      const offered = (msg?.view.inlineKeyboard ?? []).flat().some((b) => b.callbackData === data);
      if (!msg || !offered) throw new Error("that button is no longer on the message");
      msg.pressedAt = state.lastMessageId;
      const query: CallbackQuery = {
        id: `${user.id}${String(++callbackCounter).padStart(6, "0")}`,
        from: from(user),
        message: msg.tg,
        chat_instance: `sandbox${user.id}`,
        data,
      };
      callbackChats.set(query.id, user.id);
      if (callbackChats.size > 10_000) callbackChats.delete(callbackChats.keys().next().value ?? "");
      return { update_id: ++updateId, callback_query: query };
    },
    wakeAll() {
      for (const state of chats.values()) for (const w of [...state.waiters]) w();
    },
  };
}
