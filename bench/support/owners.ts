/** Bench owners: a Telegram user with a verified (synthetic) phone, ready to agree. */
import type { Language } from "../../src/domain/model.js";
import type { Store } from "../../src/store/store.js";
import { onFile } from "./phones.js";

/**
 * Creates owner `i` (Telegram user `firstUserId + i`) with phone `onFile(i)`, verified, and the
 * contact's name when given; returns its id.
 */
export async function seedVerifiedOwner(
  store: Store,
  i: number,
  options: { firstUserId: number; language: Language; name?: string },
): Promise<string> {
  const owner = await store.ensureOwner({
    telegramUserId: options.firstUserId + i,
    chatId: options.firstUserId + i,
    language: options.language,
    timezone: "Asia/Shanghai",
    jurisdiction: "CN",
    sandbox: false,
  });
  await store.updateOwnerProfile(owner.id, {
    phone: onFile(i),
    phoneVerified: true,
    country: "CN",
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  return owner.id;
}
