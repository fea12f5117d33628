/**
 * The one-tap stop link of a window, the same in every process (DESIGN §6, issue 20): a retried
 * `window.opened` must be byte-identical under its webhook-id, whichever process sends it. The
 * link is made from the bot's username, which the bot process stores (meta `bot.username`) once
 * Telegram has told it, before it takes any update — so before any window exists. A process that
 * does not know it yet (a dispatcher started before the bot, `onewindow dispatch`) reads it from
 * the store when it first needs a link, instead of sending a neutral link that a later retry
 * would change.
 */
import type { Store } from "../store/store.js";
import { stopLinkPrefix } from "./insurer-views.js";

export interface StopLinks {
  /** The stop link for a window's token. */
  link(token: string): Promise<string>;
}

/** `prefix`: known already (the sandbox's own links, or a username read at start). */
export function createStopLinks(store: Pick<Store, "getMeta">, prefix?: string): StopLinks {
  let known = prefix;
  return {
    async link(token) {
      if (known === undefined) {
        const username = await store.getMeta("bot.username");
        if (username) known = stopLinkPrefix(username);
      }
      return `${known ?? stopLinkPrefix(undefined)}${token}`;
    },
  };
}
