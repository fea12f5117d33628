/**
 * Telegram's Bot API answered in this process, for bot benchmarks: no socket, no fake server,
 * so what a benchmark measures is the bot, not the wire. The same answerer serves either as a
 * grammY API transformer (`bot.api.config.use(api.transformer)`, installed last: it answers
 * before grammY's HTTP client and any transformer installed earlier, such as auto-retry) or as
 * the client's `fetch` (`createBot({ fetch })`: grammY's client, its JSON encoding and every
 * transformer run, only the HTTP request is replaced). Apply the same one to both sides of a
 * comparison.
 *
 * sendMessage, editMessageText and editMessageReplyMarkup answer a well-formed Message (one
 * message-id counter per process, shared with the updates built by {@link createBenchUsers} so
 * ids interleave as in a chat); answerCallbackQuery, deleteMessage and the rest answer `true`.
 * While `keep` is on, the bot's messages are kept so that a button press can carry the
 * message it belongs to (onboarding); while `record` is on, their texts are kept for checks.
 */
import { Buffer } from "node:buffer";
import type { Transformer } from "grammy";
import type { Chat, Message, Update, User, UserFromGetMe } from "grammy/types";

export type ApiAnswer = { ok: true; result: unknown };

export interface LocalBotApi {
  transformer: Transformer;
  /** For `createBot({ fetch })` / `new Bot(token, { client: { fetch } })` (cast as needed). */
  fetch: (url: string | URL, init?: { body?: unknown }) => Promise<{ json(): Promise<ApiAnswer> }>;
  /** Calls answered, by method. */
  calls: Map<string, number>;
  /** Keep the bot's messages (for button presses); off for timed runs. */
  keep: boolean;
  /** Keep the texts the bot sent, in order (for checks); off for timed runs. */
  record: boolean;
  texts: string[];
  nextMessageId(): number;
  /** The newest kept bot message in `chatId` with a button carrying `data`. */
  messageWithButton(chatId: number, data: string): Message | undefined;
}

export function createLocalBotApi(botInfo: UserFromGetMe): LocalBotApi {
  let messageId = 0;
  const calls = new Map<string, number>();
  const kept = new Map<number, Map<number, Message>>();
  const botUser: User = {
    id: botInfo.id,
    is_bot: true,
    first_name: botInfo.first_name,
    username: botInfo.username,
  };
  const chatOf = (id: number): Chat.PrivateChat => ({ id, type: "private", first_name: "Owner" });

  const message = (payload: Record<string, unknown>, id: number): Message => {
    const chatId = Number(payload.chat_id);
    const previous = kept.get(chatId)?.get(id);
    const msg = {
      ...(previous ?? {}),
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: chatOf(chatId),
      from: botUser,
      ...(typeof payload.text === "string" ? { text: payload.text } : {}),
      ...(payload.reply_markup !== undefined ? { reply_markup: payload.reply_markup } : {}),
    } as Message;
    if (api.keep) {
      const chat = kept.get(chatId) ?? new Map<number, Message>();
      kept.set(chatId, chat);
      chat.set(id, msg);
    }
    return msg;
  };

  const answer = (method: string, payload: Record<string, unknown>): ApiAnswer => {
    calls.set(method, (calls.get(method) ?? 0) + 1);
    switch (method) {
      case "sendMessage":
        if (api.record) api.texts.push(String(payload.text));
        return { ok: true, result: message(payload, ++messageId) };
      case "editMessageText":
        if (api.record) api.texts.push(String(payload.text));
        return { ok: true, result: message(payload, Number(payload.message_id)) };
      case "editMessageReplyMarkup":
        return {
          ok: true,
          result: message({ reply_markup: { inline_keyboard: [] }, ...payload }, Number(payload.message_id)),
        };
      case "deleteMessage":
        kept.get(Number(payload.chat_id))?.delete(Number(payload.message_id));
        return { ok: true, result: true };
      case "getMe":
        return { ok: true, result: botInfo };
      default:
        return { ok: true, result: true };
    }
  };

  const api: LocalBotApi = {
    transformer: (async (_prev, method, payload) =>
      answer(method, (payload ?? {}) as Record<string, unknown>)) as Transformer,
    async fetch(url, init) {
      const method = String(url).slice(String(url).lastIndexOf("/") + 1);
      const body = init?.body;
      const text =
        typeof body === "string"
          ? body
          : body instanceof Uint8Array
            ? Buffer.from(body).toString("utf8")
            : body === undefined || body === null
              ? ""
              : undefined;
      if (text === undefined) throw new Error(`bench Bot API: ${method}: multipart bodies are not answered`);
      const result = answer(method, text ? (JSON.parse(text) as Record<string, unknown>) : {});
      return { json: async () => result };
    },
    calls,
    keep: false,
    record: false,
    texts: [],
    nextMessageId: () => ++messageId,
    messageWithButton(chatId, data) {
      const chat = [...(kept.get(chatId)?.values() ?? [])].reverse();
      return chat.find((m) =>
        (m.reply_markup?.inline_keyboard ?? []).some((row) =>
          row.some((b) => "callback_data" in b && b.callback_data === data),
        ),
      );
    },
  };
  return api;
}

/** Update builders for private chats with the bot: distinct update_ids, ids shared with `api`. */
export function createBenchUsers(api: LocalBotApi, firstUpdateId = 1) {
  let updateId = firstUpdateId - 1;
  let callbackId = 0;
  return {
    nextUpdateId: () => ++updateId,
    user(id: number, languageCode = "en") {
      const from: User = { id, is_bot: false, first_name: "Lin", language_code: languageCode };
      const chat: Chat.PrivateChat = { id, type: "private", first_name: "Lin" };
      const message = (fields: Record<string, unknown>): Update =>
        ({
          update_id: ++updateId,
          message: {
            message_id: api.nextMessageId(),
            date: Math.floor(Date.now() / 1000),
            chat,
            from,
            ...fields,
          },
        }) as Update;
      return {
        id,
        text: (text: string) => message({ text }),
        command: (command: string) =>
          message({ text: command, entities: [{ type: "bot_command", offset: 0, length: command.length }] }),
        contact: (phone: string) =>
          message({ contact: { phone_number: phone, first_name: "Lin", user_id: id } }),
        sticker: () =>
          message({
            sticker: {
              file_id: "CAACAgIAAxkBAAEBench",
              file_unique_id: "AgADBench",
              type: "regular",
              width: 512,
              height: 512,
              is_animated: false,
              is_video: false,
            },
          }),
        /** A press of the button carrying `data` on the newest kept bot message that has it. */
        press(data: string): Update {
          const msg = api.messageWithButton(id, data);
          if (!msg) throw new Error(`no kept bot message in chat ${id} has a button "${data}"`);
          return {
            update_id: ++updateId,
            callback_query: {
              id: `cb${++callbackId}`,
              from,
              message: msg,
              chat_instance: `ci${id}`,
              data,
            },
          } as Update;
        },
      };
    },
  };
}
