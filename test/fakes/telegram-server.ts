/**
 * A loopback fake of Telegram's Bot API server for unit and end-to-end tests.
 *
 * Point grammY at it with `new Bot(token, { client: { apiRoot: fake.apiRoot } })`, or start
 * the real service with `TELEGRAM_API_ROOT=fake.apiRoot`. It serves long polling (honouring
 * `offset`, `limit`, `timeout`), records every call, keeps the bot's messages per chat (so
 * edits, deletions and button presses behave), parses grammY's multipart uploads, and can be
 * told to fail the next call of a method (e.g. 429 with `retry_after`).
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
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
import { type MultipartPart, parseMultipart } from "../../src/sandbox/multipart.js";

/** The default bot token (the numeric part is the bot's user id). */
export const DEFAULT_FAKE_TOKEN = "7000000001:AAFakeTokenForOnewindowTests012345678";

/** Every Bot API method name (from @grammyjs/types); anything else answers 404. */
const BOT_API_METHODS = new Set(
  `
  addStickerToSet answerCallbackQuery answerChatJoinRequestQuery answerGuestQuery
  answerInlineQuery answerPreCheckoutQuery answerShippingQuery answerWebAppQuery
  approveChatJoinRequest approveSuggestedPost banChatMember banChatSenderChat close
  closeForumTopic closeGeneralForumTopic convertGiftToStars copyMessage copyMessages
  createChatInviteLink createChatSubscriptionInviteLink createForumTopic createInvoiceLink
  createNewStickerSet declineChatJoinRequest declineSuggestedPost deleteAllMessageReactions
  deleteBusinessMessages deleteChatPhoto deleteChatStickerSet deleteEphemeralMessage
  deleteForumTopic deleteMessage deleteMessageReaction deleteMessages deleteMyCommands
  deleteStickerFromSet deleteStickerSet deleteStory deleteWebhook editChatInviteLink
  editChatSubscriptionInviteLink editEphemeralMessageCaption editEphemeralMessageMedia
  editEphemeralMessageReplyMarkup editEphemeralMessageText editForumTopic editGeneralForumTopic
  editMessageCaption editMessageChecklist editMessageLiveLocation editMessageMedia
  editMessageReplyMarkup editMessageText editStory editUserStarSubscription exportChatInviteLink
  forwardMessage forwardMessages getAvailableGifts getBusinessAccountGifts
  getBusinessAccountStarBalance getBusinessConnection getChat getChatAdministrators getChatGifts
  getChatMember getChatMemberCount getChatMenuButton getCustomEmojiStickers getFile
  getForumTopicIconStickers getGameHighScores getManagedBotAccessSettings getManagedBotToken
  getMe getMyCommands getMyDefaultAdministratorRights getMyDescription getMyName
  getMyShortDescription getMyStarBalance getStarTransactions getStickerSet getUpdates
  getUserChatBoosts getUserGifts getUserPersonalChatMessages getUserProfileAudios
  getUserProfilePhotos getWebhookInfo giftPremiumSubscription hideGeneralForumTopic leaveChat
  logOut pinChatMessage postStory promoteChatMember readBusinessMessage refundStarPayment
  removeBusinessAccountProfilePhoto removeChatVerification removeMyProfilePhoto
  removeUserVerification reopenForumTopic reopenGeneralForumTopic replaceManagedBotToken
  replaceStickerInSet repostStory restrictChatMember revokeChatInviteLink
  savePreparedInlineMessage savePreparedKeyboardButton sendAnimation sendAudio sendChatAction
  sendChatJoinRequestWebApp sendChecklist sendContact sendDice sendDocument sendGame sendGift
  sendInvoice sendLivePhoto sendLocation sendMediaGroup sendMessage sendMessageDraft
  sendPaidMedia sendPhoto sendPoll sendRichMessage sendRichMessageDraft sendSticker sendVenue
  sendVideo sendVideoNote sendVoice setBusinessAccountBio setBusinessAccountGiftSettings
  setBusinessAccountName setBusinessAccountProfilePhoto setBusinessAccountUsername
  setChatAdministratorCustomTitle setChatDescription setChatMemberTag setChatMenuButton
  setChatPermissions setChatPhoto setChatStickerSet setChatTitle
  setCustomEmojiStickerSetThumbnail setGameScore setManagedBotAccessSettings setMessageReaction
  setMyCommands setMyDefaultAdministratorRights setMyDescription setMyName setMyProfilePhoto
  setMyShortDescription setPassportDataErrors setStickerEmojiList setStickerKeywords
  setStickerMaskPosition setStickerPositionInSet setStickerSetThumbnail setStickerSetTitle
  setUserEmojiStatus setWebhook stopMessageLiveLocation stopPoll transferBusinessAccountStars
  transferGift unbanChatMember unbanChatSenderChat unhideGeneralForumTopic unpinAllChatMessages
  unpinAllForumTopicMessages unpinAllGeneralForumTopicMessages unpinChatMessage upgradeGift
  uploadStickerFile verifyChat verifyUser`
    .trim()
    .split(/\s+/)
    .map((m) => m.toLowerCase()),
);

const HTML_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-emoji",
  "tg-time",
]);

/** A file uploaded with multipart/form-data (e.g. by `sendDocument`). */
export interface UploadedFile {
  /** Multipart part name (the random id in `attach://<id>`). */
  field: string;
  /** Payload key that referenced the file (e.g. "document"). */
  origin: string | undefined;
  filename: string;
  bytes: Buffer;
  /** The file_id the fake assigned (usable with getFile and `fileById`). */
  fileId: string;
  /** The bytes as UTF-8 text. */
  text(): string;
  /** The bytes parsed as JSON. */
  json(): unknown;
}

/** Telegram's error answer. */
export interface ApiErrorAnswer {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** One recorded Bot API call. */
export interface RecordedCall {
  method: string;
  payload: Record<string, unknown>;
  /** Date.now() when the request arrived. */
  at: number;
  /** Files uploaded with this call (multipart only). */
  files: UploadedFile[];
  /** The answer; undefined while a getUpdates request is still held. */
  answer?: { ok: true; result: unknown } | ApiErrorAnswer;
}

/** A message the bot sent or edited (sendMessage, sendDocument, editMessageText). */
export interface SentMessage {
  method: "sendMessage" | "sendDocument" | "editMessageText";
  chatId: number | string;
  messageId: number;
  /** `text`, or the document's `caption`, as sent (before any parse_mode processing). */
  text: string | undefined;
  parseMode: string | undefined;
  /** `reply_markup` as sent (any keyboard type). */
  replyMarkup: unknown;
  /** The uploaded file, for sendDocument with an InputFile. */
  document: UploadedFile | undefined;
  payload: Record<string, unknown>;
  /** The Message object the fake answered with. */
  message: Message;
}

/** Options for a simulated user. */
export interface SimUserOptions {
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: "en" | "zh";
}

/** Builders for the updates one simulated user produces (a private chat with the bot). */
export interface SimUser {
  id: number;
  user: User;
  chat: Chat.PrivateChat;
  sendText(text: string): Update;
  /** `/start` or `start`; `payload` is appended after a space (deep link). */
  sendCommand(command: string, payload?: string): Update;
  /** `user_id` defaults to this user's id; pass `null` for a contact without one. */
  shareContact(contact: {
    phone_number: string;
    user_id?: number | null;
    first_name?: string;
    last_name?: string;
  }): Update;
  /** A callback_query for `callbackData` on `messageId` (or the last bot message carrying it). */
  pressButton(callbackData: string, messageId?: number): Update;
  sendSticker(): Update;
  sendPhoto(caption?: string): Update;
  /** An edited_message changing the user's message `messageId` to `text`. */
  editText(messageId: number, text: string): Update;
}

/** Hooks that tie an update factory to a fake server's state. */
export interface UpdateFactoryHooks {
  nextMessageId?(chatId: number): number;
  /** The message a button press belongs to; throws if none fits. */
  findCallbackMessage?(chatId: number, data: string, messageId?: number): Message;
}

/** Makes realistic updates with increasing update_id and per-chat message_id. */
export interface UpdateFactory {
  user(id: number, opts?: SimUserOptions): SimUser;
  nextUpdateId(): number;
}

/** Options for `failNext`. */
export interface FailOptions {
  error_code: number;
  /** Defaults to Telegram's usual text for the code. */
  description?: string;
  retry_after?: number;
}

/** The running fake server. */
export interface FakeTelegram {
  /** e.g. "http://127.0.0.1:PORT" — pass as grammY's `client.apiRoot` or TELEGRAM_API_ROOT. */
  apiRoot: string;
  token: string;
  botInfo: UserFromGetMe;
  /** Every call, in arrival order (same array across `clearCalls`). */
  calls: RecordedCall[];
  /** Messages the bot sent or edited, in order, optionally for one chat. */
  sent(chatId?: number | string): SentMessage[];
  /** Resolves with the first recorded call (past or future) matching; rejects after timeoutMs. */
  waitFor(predicate: string | ((call: RecordedCall) => boolean), timeoutMs?: number): Promise<RecordedCall>;
  clearCalls(): void;
  /** A simulated user: each builder also enqueues its update for getUpdates. */
  user(id: number, opts?: SimUserOptions): SimUser;
  /** Queues a raw (possibly malformed) update; assigns update_id when missing. */
  enqueue<T extends object>(update: T): T;
  /** Updates queued and not yet confirmed by a getUpdates offset. */
  pendingUpdates(): unknown[];
  /** Makes the next call of `method` fail once (call repeatedly to queue several failures). */
  failNext(method: string, error: FailOptions): void;
  /** The current state of a bot message (after edits), or undefined if unknown/deleted. */
  message(chatId: number | string, messageId: number): Message | undefined;
  /** Commands registered with setMyCommands for a language code (default: none). */
  commands(languageCode?: string): BotCommand[];
  /** An uploaded file by file_id. */
  fileById(fileId: string): UploadedFile | undefined;
  /** The URL set with setWebhook, if any. */
  webhookUrl(): string | undefined;
  close(): Promise<void>;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Creates an update factory (own update_id / message_id counters unless hooks are given). */
export function createUpdateFactory(hooks: UpdateFactoryHooks = {}): UpdateFactory {
  let updateId = 100_000;
  let callbackId = 0;
  const localMessageIds = new Map<number, number>();
  const nextMessageId =
    hooks.nextMessageId ??
    ((chatId: number): number => {
      const next = (localMessageIds.get(chatId) ?? 0) + 1;
      localMessageIds.set(chatId, next);
      return next;
    });
  const nextUpdateId = (): number => ++updateId;

  const user = (id: number, opts: SimUserOptions = {}): SimUser => {
    const from: User = {
      id,
      is_bot: false,
      first_name: opts.firstName ?? `User${id}`,
      ...(opts.lastName !== undefined ? { last_name: opts.lastName } : {}),
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      language_code: opts.languageCode ?? "en",
    };
    const chat: Chat.PrivateChat = {
      id,
      type: "private",
      first_name: from.first_name,
      ...(from.last_name !== undefined ? { last_name: from.last_name } : {}),
      ...(from.username !== undefined ? { username: from.username } : {}),
    };
    const base = (): { message_id: number; date: number; chat: Chat.PrivateChat; from: User } => ({
      message_id: nextMessageId(id),
      date: nowSeconds(),
      chat,
      from,
    });
    const messageUpdate = (fields: Record<string, unknown>): Update =>
      ({ update_id: nextUpdateId(), message: { ...base(), ...fields } }) as Update;

    return {
      id,
      user: from,
      chat,
      sendText: (text) => messageUpdate({ text }),
      sendCommand: (command, payload) => {
        const cmd = command.startsWith("/") ? command : `/${command}`;
        const text = payload !== undefined && payload !== "" ? `${cmd} ${payload}` : cmd;
        return messageUpdate({
          text,
          entities: [{ type: "bot_command", offset: 0, length: cmd.length }],
        });
      },
      shareContact: (c) => {
        const userId = c.user_id === undefined ? id : c.user_id;
        return messageUpdate({
          contact: {
            phone_number: c.phone_number,
            first_name: c.first_name ?? from.first_name,
            ...(c.last_name !== undefined ? { last_name: c.last_name } : {}),
            ...(userId !== null ? { user_id: userId } : {}),
          },
        });
      },
      pressButton: (data, messageId) => {
        const message: Message = hooks.findCallbackMessage
          ? hooks.findCallbackMessage(id, data, messageId)
          : ({
              message_id: messageId ?? 1,
              date: nowSeconds(),
              chat,
              text: "",
            } as Message);
        const query: CallbackQuery = {
          id: `${id}${String(++callbackId).padStart(6, "0")}`,
          from,
          message,
          chat_instance: `ci${id}`,
          data,
        };
        return { update_id: nextUpdateId(), callback_query: query };
      },
      sendSticker: () =>
        messageUpdate({
          sticker: {
            file_id: `sticker-${id}-${updateId}`,
            file_unique_id: `stk${updateId}`,
            type: "regular",
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
            emoji: "👍",
          },
        }),
      sendPhoto: (caption) =>
        messageUpdate({
          photo: [
            { file_id: `photo-s-${updateId}`, file_unique_id: `ps${updateId}`, width: 90, height: 90 },
            {
              file_id: `photo-m-${updateId}`,
              file_unique_id: `pm${updateId}`,
              width: 800,
              height: 800,
              file_size: 54_321,
            },
          ],
          ...(caption !== undefined ? { caption } : {}),
        }),
      editText: (messageId, text) =>
        ({
          update_id: nextUpdateId(),
          edited_message: {
            message_id: messageId,
            date: nowSeconds() - 1,
            edit_date: nowSeconds(),
            chat,
            from,
            text,
          },
        }) as Update,
    };
  };

  return { user, nextUpdateId };
}

const sharedFactory = createUpdateFactory();

/** Update builders for a user, for tests that call `bot.handleUpdate` directly (no server). */
export function updates(userId: number, opts?: SimUserOptions): SimUser {
  return sharedFactory.user(userId, opts);
}

class BadRequest extends Error {
  constructor(
    readonly description: string,
    readonly code = 400,
  ) {
    super(description);
  }
}

const bad = (what: string): BadRequest => new BadRequest(`Bad Request: ${what}`);

function defaultDescription(code: number, retryAfter?: number): string {
  switch (code) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden: bot was blocked by the user";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 429:
      return `Too Many Requests: retry after ${retryAfter ?? 1}`;
    default:
      return code >= 500 ? "Internal Server Error" : `Error ${code}`;
  }
}

/** Keys whose multipart/urlencoded values always stay strings. */
const STRING_KEYS = new Set([
  "text",
  "caption",
  "callback_query_id",
  "inline_message_id",
  "file_id",
  "url",
  "secret_token",
  "language_code",
  "parse_mode",
  "description",
  "title",
  "emoji",
]);

function coerceField(key: string, value: string): unknown {
  if (STRING_KEYS.has(key) || value.startsWith("attach://")) return value;
  if (/^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  if (/^-?\d+$/.test(value) && (/(^|_)id$/.test(key) || ["offset", "limit", "timeout"].includes(key))) {
    return Number(value);
  }
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

// grammY's multipart dialect is parsed by the sandbox's parser: one implementation, tested twice.
export { parseMultipart };

const ENTITY: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** Applies Telegram's HTML parse mode: validates tags and returns the plain text. */
function renderHtml(src: string): string {
  let out = "";
  const stack: string[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i] ?? "";
    if (ch === "<") {
      const offset = Buffer.byteLength(src.slice(0, i));
      const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>/.exec(src.slice(i));
      const name = m?.[2]?.toLowerCase();
      if (!m || name === undefined || !HTML_TAGS.has(name)) {
        const shown = name ?? /^<\/?([^\s>]*)/.exec(src.slice(i))?.[1] ?? "";
        throw bad(`can't parse entities: Unsupported start tag "${shown}" at byte offset ${offset}`);
      }
      if (m[1] === "/") {
        const open = stack.pop();
        if (open !== name) {
          throw bad(
            `can't parse entities: Unmatched end tag at byte offset ${offset}, expected "</${open ?? ""}>", found "</${name}>"`,
          );
        }
      } else {
        stack.push(name);
      }
      i += m[0].length;
      continue;
    }
    if (ch === "&") {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(src.slice(i, i + 12));
      if (m?.[1] !== undefined) {
        const e = m[1];
        out += e.startsWith("#x")
          ? String.fromCodePoint(Number.parseInt(e.slice(2), 16))
          : e.startsWith("#")
            ? String.fromCodePoint(Number(e.slice(1)))
            : (ENTITY[e] ?? "");
        i += m[0].length;
        continue;
      }
    }
    out += ch;
    i += 1;
  }
  const open = stack.pop();
  if (open !== undefined) {
    throw bad(`can't parse entities: Can't find end tag corresponding to start tag "${open}"`);
  }
  return out;
}

function renderText(text: string, parseMode: unknown): string {
  return typeof parseMode === "string" && parseMode.toLowerCase() === "html" ? renderHtml(text) : text;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "string" && /^-?\d+$/.test(v)
      ? Number(v)
      : undefined;

/** Validates a reply_markup and returns the part Telegram echoes in Message (inline only). */
function inlineMarkup(markup: unknown): InlineKeyboardMarkup | undefined {
  if (markup === undefined) return undefined;
  if (!isRecord(markup)) throw bad("can't parse reply keyboard markup JSON object");
  const rows = markup.inline_keyboard;
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows)) throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');
  for (const row of rows) {
    if (!Array.isArray(row))
      throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    for (const button of row) {
      if (!isRecord(button) || typeof button.text !== "string") throw bad('can\'t find field "text"');
      const data = button.callback_data;
      if (data !== undefined) {
        const size = typeof data === "string" ? Buffer.byteLength(data) : 0;
        if (size < 1 || size > 64) throw bad("BUTTON_DATA_INVALID");
      }
    }
  }
  return markup as unknown as InlineKeyboardMarkup;
}

function callbackDataOf(message: Message): string[] {
  const rows = message.reply_markup?.inline_keyboard ?? [];
  return rows.flatMap((row) =>
    row.flatMap((b) =>
      "callback_data" in b && typeof b.callback_data === "string" ? [b.callback_data] : [],
    ),
  );
}

function guessMime(filename: string): string {
  const ext = filename.split(".").pop()?.toLowerCase();
  const map: Record<string, string> = {
    json: "application/json",
    txt: "text/plain",
    csv: "text/csv",
    pdf: "application/pdf",
    zip: "application/zip",
  };
  return (ext !== undefined ? map[ext] : undefined) ?? "application/octet-stream";
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

const summarize = (call: RecordedCall): string => {
  const json = JSON.stringify(call.payload);
  const status =
    call.answer === undefined ? "pending" : call.answer.ok ? "ok" : `error ${call.answer.error_code}`;
  return `  ${call.method} ${json.length > 200 ? `${json.slice(0, 200)}…` : json} → ${status}`;
};

interface ChatState {
  lastMessageId: number;
  messages: Map<number, Message>;
}

interface Poller {
  limit: number;
  respond(updates: unknown[]): void;
  conflict(): void;
  timer: NodeJS.Timeout;
}

interface CallWaiter {
  predicate(call: RecordedCall): boolean;
  resolve(call: RecordedCall): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const SENT_METHODS = new Set(["sendMessage", "sendDocument", "editMessageText"]);

/** Starts the fake Bot API server on 127.0.0.1 (random port). */
export async function startFakeTelegram(opts: { token?: string } = {}): Promise<FakeTelegram> {
  const token = opts.token ?? DEFAULT_FAKE_TOKEN;
  const botId = num(token.split(":")[0]) ?? 7_000_000_001;
  const botInfo: UserFromGetMe = {
    id: botId,
    is_bot: true,
    first_name: "OneWindow Test",
    username: "onewindow_test_bot",
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
  const botUser: User = {
    id: botId,
    is_bot: true,
    first_name: botInfo.first_name,
    username: botInfo.username,
  };

  const calls: RecordedCall[] = [];
  const callWaiters = new Set<CallWaiter>();
  const pollers = new Set<Poller>();
  const failures = new Map<string, FailOptions[]>();
  const chats = new Map<string, ChatState>();
  const users = new Map<number, User>();
  const files = new Map<string, UploadedFile>();
  const commands = new Map<string, BotCommand[]>();
  let queue: Record<string, unknown>[] = [];
  let webhook: string | undefined;
  let fileCounter = 0;
  let apiRoot = "";

  const chatState = (chatId: number | string): ChatState => {
    const key = String(chatId);
    let state = chats.get(key);
    if (!state) {
      state = { lastMessageId: 0, messages: new Map() };
      chats.set(key, state);
    }
    return state;
  };
  const nextMessageId = (chatId: number | string): number => ++chatState(chatId).lastMessageId;

  const chatObject = (chatId: number | string): Chat => {
    if (typeof chatId === "string") {
      return {
        id: -1_001_000_000_000,
        type: "channel",
        title: chatId.replace(/^@/, ""),
        username: chatId.replace(/^@/, ""),
      };
    }
    if (chatId > 0) {
      const u = users.get(chatId);
      return { id: chatId, type: "private", first_name: u?.first_name ?? `User${chatId}` };
    }
    return chatId < -1_000_000_000_000
      ? { id: chatId, type: "supergroup", title: "Test supergroup" }
      : { id: chatId, type: "group", title: "Test group" };
  };

  const factory = createUpdateFactory({
    nextMessageId,
    findCallbackMessage: (chatId, data, messageId) => {
      const state = chatState(chatId);
      if (messageId !== undefined) {
        return (
          state.messages.get(messageId) ??
          ({
            message_id: messageId,
            date: nowSeconds(),
            chat: chatObject(chatId),
            from: botUser,
            text: "",
          } as Message)
        );
      }
      const ordered = [...state.messages.values()].sort((a, b) => b.message_id - a.message_id);
      const found = ordered.find((m) => callbackDataOf(m).includes(data));
      if (!found) {
        const offered = ordered.flatMap(callbackDataOf);
        throw new Error(
          `fake telegram: no bot message in chat ${chatId} carries callback_data "${data}" (buttons present: ${
            offered.length ? offered.map((d) => `"${d}"`).join(", ") : "none"
          })`,
        );
      }
      return found;
    },
  });

  const chatIdOf = (payload: Record<string, unknown>): number | string => {
    const raw = payload.chat_id;
    const n = num(raw);
    if (n !== undefined) return n;
    if (typeof raw === "string" && raw.startsWith("@")) return raw;
    throw bad("chat_id is empty");
  };

  const storedMessage = (
    payload: Record<string, unknown>,
    what: "edit" | "delete",
  ): { chatId: number | string; message: Message } => {
    const chatId = chatIdOf(payload);
    const messageId = num(payload.message_id);
    const message = messageId !== undefined ? chatState(chatId).messages.get(messageId) : undefined;
    if (!message) throw bad(`message to ${what} not found`);
    return { chatId, message };
  };

  const store = (chatId: number | string, message: Message): Message => {
    chatState(chatId).messages.set(message.message_id, message);
    return message;
  };

  const newMessage = (chatId: number | string, fields: Record<string, unknown>): Message => {
    const message = {
      message_id: nextMessageId(chatId),
      from: botUser,
      chat: chatObject(chatId),
      date: nowSeconds(),
      ...fields,
    } as Message;
    return store(chatId, message);
  };

  const sameMarkup = (a: unknown, b: unknown): boolean =>
    JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

  const handlers: Record<string, (payload: Record<string, unknown>, upload: UploadedFile[]) => unknown> = {
    getme: () => botInfo,
    logout: () => true,
    close: () => true,
    deletewebhook: (p) => {
      webhook = undefined;
      if (p.drop_pending_updates === true) queue = [];
      return true;
    },
    setwebhook: (p) => {
      if (typeof p.url !== "string") throw bad("bad webhook: URL must be provided");
      webhook = p.url === "" ? undefined : p.url;
      return true;
    },
    getwebhookinfo: () => ({
      url: webhook ?? "",
      has_custom_certificate: false,
      pending_update_count: queue.length,
    }),
    setmycommands: (p) => {
      const list = p.commands;
      if (!Array.isArray(list)) throw bad('field "commands" must be an Array');
      for (const c of list) {
        if (!isRecord(c) || typeof c.command !== "string" || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
          throw bad("BOT_COMMAND_INVALID");
        }
        if (typeof c.description !== "string" || c.description.length < 1 || c.description.length > 256) {
          throw bad("BOT_COMMAND_DESCRIPTION_INVALID");
        }
      }
      commands.set(commandKey(p), list as BotCommand[]);
      return true;
    },
    getmycommands: (p) => commands.get(commandKey(p)) ?? [],
    deletemycommands: (p) => {
      commands.delete(commandKey(p));
      return true;
    },
    sendmessage: (p) => {
      const chatId = chatIdOf(p);
      if (typeof p.text !== "string" || p.text.trim() === "") throw bad("message text is empty");
      const text = renderText(p.text, p.parse_mode);
      if (text.trim() === "") throw bad("message text is empty");
      if (text.length > 4096) throw bad("message is too long");
      const markup = inlineMarkup(p.reply_markup);
      return newMessage(chatId, {
        text,
        ...(Array.isArray(p.entities) ? { entities: p.entities } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      });
    },
    editmessagetext: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { chatId, message } = storedMessage(p, "edit");
      if (typeof p.text !== "string" || p.text.trim() === "") throw bad("message text is empty");
      if (message.text === undefined) throw bad("there is no text in the message to edit");
      const text = renderText(p.text, p.parse_mode);
      if (text.length > 4096) throw bad("MESSAGE_TOO_LONG");
      const markup = inlineMarkup(p.reply_markup);
      if (text === message.text && sameMarkup(markup, message.reply_markup)) {
        throw bad(
          "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
      }
      const { reply_markup: _old, entities: _oldEntities, ...rest } = message;
      return store(chatId, {
        ...rest,
        text,
        edit_date: nowSeconds(),
        ...(Array.isArray(p.entities) ? { entities: p.entities } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      } as Message);
    },
    editmessagereplymarkup: (p) => {
      if (p.inline_message_id !== undefined) return true;
      const { chatId, message } = storedMessage(p, "edit");
      const markup = inlineMarkup(p.reply_markup);
      if (sameMarkup(markup, message.reply_markup)) {
        throw bad(
          "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
        );
      }
      const { reply_markup: _old, ...rest } = message;
      return store(chatId, {
        ...rest,
        edit_date: nowSeconds(),
        ...(markup ? { reply_markup: markup } : {}),
      } as Message);
    },
    deletemessage: (p) => {
      const { chatId, message } = storedMessage(p, "delete");
      chatState(chatId).messages.delete(message.message_id);
      return true;
    },
    deletemessages: (p) => {
      const chatId = chatIdOf(p);
      const ids = Array.isArray(p.message_ids) ? p.message_ids : [];
      for (const id of ids) {
        const n = num(id);
        if (n !== undefined) chatState(chatId).messages.delete(n);
      }
      return true;
    },
    answercallbackquery: (p) => {
      if (typeof p.callback_query_id !== "string" || p.callback_query_id === "") {
        throw bad("query is too old and response timeout expired or query ID is invalid");
      }
      return true;
    },
    sendchataction: (p) => {
      chatIdOf(p);
      return true;
    },
    senddocument: (p, upload) => {
      const chatId = chatIdOf(p);
      const ref = p.document;
      let file: UploadedFile | undefined;
      if (typeof ref === "string" && ref.startsWith("attach://")) {
        file = upload.find((f) => f.field === ref.slice("attach://".length));
      } else if (typeof ref === "string" && ref !== "") {
        file =
          files.get(ref) ?? registerFile(ref, "document", ref.split("/").pop() ?? "file", Buffer.alloc(0));
      }
      if (!file) throw bad("there is no document in the request");
      let caption: string | undefined;
      if (typeof p.caption === "string") {
        caption = renderText(p.caption, p.parse_mode);
        if (caption.length > 1024) throw bad("message caption is too long");
      }
      const markup = inlineMarkup(p.reply_markup);
      return newMessage(chatId, {
        document: {
          file_id: file.fileId,
          file_unique_id: `u${file.fileId}`,
          file_name: file.filename,
          mime_type: guessMime(file.filename),
          file_size: file.bytes.length,
        },
        ...(caption !== undefined ? { caption } : {}),
        ...(markup ? { reply_markup: markup } : {}),
      });
    },
    getfile: (p) => {
      const file = typeof p.file_id === "string" ? files.get(p.file_id) : undefined;
      if (!file) throw bad("invalid file_id");
      return {
        file_id: file.fileId,
        file_unique_id: `u${file.fileId}`,
        file_size: file.bytes.length,
        file_path: `documents/${file.fileId}/${file.filename}`,
      };
    },
  };

  function commandKey(p: Record<string, unknown>): string {
    const scope = isRecord(p.scope) ? JSON.stringify(p.scope) : '{"type":"default"}';
    return `${scope}|${typeof p.language_code === "string" ? p.language_code : ""}`;
  }

  function registerFile(
    field: string,
    origin: string | undefined,
    filename: string,
    bytes: Buffer,
  ): UploadedFile {
    const fileId = `BQACAgFake${++fileCounter}`;
    const file: UploadedFile = {
      field,
      origin,
      filename,
      bytes,
      fileId,
      text: () => bytes.toString("utf8"),
      json: () => JSON.parse(bytes.toString("utf8")) as unknown,
    };
    files.set(fileId, file);
    return file;
  }

  const notify = (call: RecordedCall): void => {
    for (const waiter of callWaiters) {
      if (waiter.predicate(call)) {
        clearTimeout(waiter.timer);
        callWaiters.delete(waiter);
        waiter.resolve(call);
      }
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    if (res.writableEnded || res.destroyed) return;
    const json = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
    res.end(json);
  };

  const answer = (res: ServerResponse, call: RecordedCall, result: RecordedCall["answer"] & object): void => {
    call.answer = result;
    send(res, result.ok ? 200 : result.error_code, result);
  };

  const errorAnswer = (code: number, description: string, retryAfter?: number): ApiErrorAnswer => ({
    ok: false,
    error_code: code,
    description,
    ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}),
  });

  const confirm = (offset: number): void => {
    if (offset > 0) queue = queue.filter((u) => (num(u.update_id) ?? 0) >= offset);
    else if (offset < 0) queue = queue.slice(offset);
  };

  const handleGetUpdates = (
    payload: Record<string, unknown>,
    res: ServerResponse,
    call: RecordedCall,
  ): void => {
    if (webhook !== undefined) {
      answer(
        res,
        call,
        errorAnswer(
          409,
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        ),
      );
      return;
    }
    const offset = num(payload.offset);
    if (offset !== undefined) confirm(offset);
    const limit = Math.min(100, Math.max(1, num(payload.limit) ?? 100));
    const timeout = Math.max(0, num(payload.timeout) ?? 0);
    for (const p of pollers) p.conflict();
    const available = queue.slice(0, limit);
    if (available.length > 0 || timeout === 0) {
      answer(res, call, { ok: true, result: available });
      return;
    }
    const finish = (): void => {
      clearTimeout(poller.timer);
      pollers.delete(poller);
    };
    const poller: Poller = {
      limit,
      respond: (list) => {
        finish();
        answer(res, call, { ok: true, result: list });
      },
      conflict: () => {
        finish();
        answer(
          res,
          call,
          errorAnswer(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
          ),
        );
      },
      timer: setTimeout(() => poller.respond([]), timeout * 1000),
    };
    pollers.add(poller);
    res.on("close", () => {
      if (!res.writableFinished) finish();
    });
  };

  const wakePollers = (): void => {
    for (const p of pollers) p.respond(queue.slice(0, p.limit));
  };

  const parsePayload = async (
    req: IncomingMessage,
    url: URL,
  ): Promise<{ payload: Record<string, unknown>; parts: MultipartPart[] }> => {
    const payload: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) payload[k] = coerceField(k, v);
    const body = await readBody(req);
    const type = req.headers["content-type"] ?? "";
    if (body.length === 0) return { payload, parts: [] };
    if (/^multipart\/form-data/i.test(type)) {
      const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
      const parts = parseMultipart(body, boundary?.[1] ?? boundary?.[2] ?? "");
      for (const part of parts) {
        if (part.filename === undefined)
          payload[part.name] = coerceField(part.name, part.bytes.toString("utf8"));
      }
      return { payload, parts: parts.filter((p) => p.filename !== undefined) };
    }
    if (/^application\/x-www-form-urlencoded/i.test(type)) {
      for (const [k, v] of new URLSearchParams(body.toString("utf8"))) payload[k] = coerceField(k, v);
      return { payload, parts: [] };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw bad("invalid JSON in request body");
    }
    if (!isRecord(parsed)) throw bad("request body must be a JSON object");
    return { payload: { ...payload, ...parsed }, parts: [] };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const fileMatch = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (fileMatch) {
      const fileId = decodeURIComponent(fileMatch[2] ?? "").split("/")[1] ?? "";
      const file = fileMatch[1] === token ? files.get(fileId) : undefined;
      if (!file) {
        send(res, 404, errorAnswer(404, "Not Found"));
        return;
      }
      res.writeHead(200, { "content-type": guessMime(file.filename), "content-length": file.bytes.length });
      res.end(file.bytes);
      return;
    }
    const m = /^\/bot([^/]*)\/([^/]+)\/?$/.exec(url.pathname);
    if (!m) {
      send(res, 404, errorAnswer(404, "Not Found"));
      return;
    }
    if (m[1] !== token) {
      req.resume();
      send(res, 401, errorAnswer(401, "Unauthorized"));
      return;
    }
    const method = m[2] ?? "";
    const lower = method.toLowerCase();
    const call: RecordedCall = { method, payload: {}, at: Date.now(), files: [] };
    let parts: MultipartPart[] = [];
    try {
      ({ payload: call.payload, parts } = await parsePayload(req, url));
    } catch (err) {
      calls.push(call);
      answer(res, call, errorAnswer(400, err instanceof BadRequest ? err.description : String(err)));
      notify(call);
      return;
    }
    calls.push(call);
    if (!BOT_API_METHODS.has(lower)) {
      answer(res, call, errorAnswer(404, "Not Found"));
      notify(call);
      return;
    }
    call.files = parts.map((p) => {
      const origin = Object.entries(call.payload).find(([, v]) => v === `attach://${p.name}`)?.[0];
      return registerFile(p.name, origin, p.filename ?? p.name, p.bytes);
    });
    const failure = failures.get(lower)?.shift();
    if (failure) {
      answer(
        res,
        call,
        errorAnswer(
          failure.error_code,
          failure.description ?? defaultDescription(failure.error_code, failure.retry_after),
          failure.retry_after,
        ),
      );
      notify(call);
      return;
    }
    if (lower === "getupdates") {
      notify(call);
      handleGetUpdates(call.payload, res, call);
      return;
    }
    try {
      const handler = handlers[lower];
      answer(res, call, { ok: true, result: handler ? handler(call.payload, call.files) : true });
    } catch (err) {
      if (err instanceof BadRequest) answer(res, call, errorAnswer(err.code, err.description));
      else answer(res, call, errorAnswer(500, `Internal Server Error: ${String(err)}`));
    }
    notify(call);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, errorAnswer(500, String(err))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  apiRoot = `http://127.0.0.1:${port}`;

  const enqueue = <T extends object>(update: T): T => {
    const record = update as Record<string, unknown>;
    const withId =
      typeof record.update_id === "number" ? record : { ...record, update_id: factory.nextUpdateId() };
    queue.push(withId);
    wakePollers();
    return withId as T;
  };

  const sent = (chatId?: number | string): SentMessage[] =>
    calls.flatMap((call): SentMessage[] => {
      if (!SENT_METHODS.has(call.method) || !call.answer?.ok || !isRecord(call.answer.result)) return [];
      const message = call.answer.result as unknown as Message;
      const id = num(call.payload.chat_id) ?? String(call.payload.chat_id);
      if (chatId !== undefined && String(id) !== String(chatId)) return [];
      const ref = call.payload.document;
      const text = call.payload.text ?? call.payload.caption;
      return [
        {
          method: call.method as SentMessage["method"],
          chatId: id,
          messageId: message.message_id,
          text: typeof text === "string" ? text : undefined,
          parseMode: typeof call.payload.parse_mode === "string" ? call.payload.parse_mode : undefined,
          replyMarkup: call.payload.reply_markup,
          document:
            typeof ref === "string"
              ? (call.files.find((f) => `attach://${f.field}` === ref) ?? files.get(ref))
              : undefined,
          payload: call.payload,
          message,
        },
      ];
    });

  const waitFor = (
    predicate: string | ((call: RecordedCall) => boolean),
    timeoutMs = 5000,
  ): Promise<RecordedCall> => {
    const test =
      typeof predicate === "string"
        ? (c: RecordedCall): boolean => c.method.toLowerCase() === predicate.toLowerCase()
        : predicate;
    const existing = calls.find(test);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter: CallWaiter = {
        predicate: test,
        resolve,
        reject,
        timer: setTimeout(() => {
          callWaiters.delete(waiter);
          const recent = calls.filter((c) => c.method !== "getUpdates").slice(-10);
          reject(
            new Error(
              `fake telegram: waitFor(${typeof predicate === "string" ? predicate : "predicate"}) timed out after ${timeoutMs} ms; last calls (getUpdates omitted):\n${
                recent.length ? recent.map(summarize).join("\n") : "  (none)"
              }`,
            ),
          );
        }, timeoutMs),
      };
      callWaiters.add(waiter);
    });
  };

  return {
    apiRoot,
    token,
    botInfo,
    calls,
    sent,
    waitFor,
    clearCalls: () => {
      calls.length = 0;
    },
    user: (id, userOpts) => {
      const sim = factory.user(id, userOpts);
      users.set(id, sim.user);
      return {
        ...sim,
        sendText: (text) => enqueue(sim.sendText(text)),
        sendCommand: (command, payload) => enqueue(sim.sendCommand(command, payload)),
        shareContact: (contact) => enqueue(sim.shareContact(contact)),
        pressButton: (data, messageId) => enqueue(sim.pressButton(data, messageId)),
        sendSticker: () => enqueue(sim.sendSticker()),
        sendPhoto: (caption) => enqueue(sim.sendPhoto(caption)),
        editText: (messageId, text) => enqueue(sim.editText(messageId, text)),
      };
    },
    enqueue,
    pendingUpdates: () => [...queue],
    failNext: (method, error) => {
      const key = method.toLowerCase();
      failures.set(key, [...(failures.get(key) ?? []), error]);
    },
    message: (chatId, messageId) => chats.get(String(chatId))?.messages.get(messageId),
    commands: (languageCode) => commands.get(`{"type":"default"}|${languageCode ?? ""}`) ?? [],
    fileById: (fileId) => files.get(fileId),
    webhookUrl: () => webhook,
    close: async () => {
      for (const p of pollers) p.respond([]);
      for (const w of callWaiters) {
        clearTimeout(w.timer);
        w.reject(new Error("fake telegram: closed while waiting"));
      }
      callWaiters.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
