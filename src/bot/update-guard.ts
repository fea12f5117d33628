/**
 * The edge of the bot (DESIGN §11, issue 20): an update is checked against the shape of the
 * parts the features read before any of them runs. Telegram sends well-formed updates, but a
 * webhook endpoint can be posted to by anything holding the secret, and a Bot API proxy or a
 * client bug can send a `text` that is not a string: such an update is logged by its id and
 * the paths that failed (never its content) and dropped, so it cannot throw deep inside a
 * feature or be half-handled. Fields we do not read are let through untouched.
 */
import type { MiddlewareFn } from "grammy";
import type { Logger } from "pino";
import { z } from "zod";
import type { BotContext } from "./context.js";

const User = z.looseObject({
  id: z.number().int(),
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  language_code: z.string().optional(),
});

const Chat = z.looseObject({ id: z.number().int(), type: z.string() });

const Message = z.looseObject({
  message_id: z.number().int(),
  date: z.number().int().optional(),
  chat: Chat,
  from: User.optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  entities: z
    .array(z.looseObject({ type: z.string(), offset: z.number().int(), length: z.number().int() }))
    .optional(),
  contact: z
    .looseObject({
      phone_number: z.string(),
      first_name: z.string().optional(),
      last_name: z.string().optional(),
      user_id: z.number().int().optional(),
    })
    .optional(),
});

const CallbackQuery = z.looseObject({
  id: z.string(),
  from: User,
  data: z.string().optional(),
  message: z.looseObject({ message_id: z.number().int(), chat: Chat.optional() }).optional(),
});

/** The parts of an update the features read, each with the type they rely on. */
export const UpdateShape = z.looseObject({
  update_id: z.number().int().nonnegative(),
  message: Message.optional(),
  edited_message: Message.optional(),
  channel_post: Message.optional(),
  callback_query: CallbackQuery.optional(),
});

/** Drops an update whose read parts are malformed; answers a button press so its spinner stops. */
export function guardUpdates(logger: Logger): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const checked = UpdateShape.safeParse(ctx.update);
    if (checked.success) return next();
    logger.warn(
      {
        updateId: (ctx.update as { update_id?: unknown }).update_id,
        paths: checked.error.issues.slice(0, 5).map((i) => i.path.join(".")),
      },
      "malformed update dropped",
    );
    const query = (ctx.update as { callback_query?: { id?: unknown } }).callback_query;
    if (typeof query?.id === "string") await ctx.api.answerCallbackQuery(query.id).catch(() => undefined);
  };
}
