/**
 * The bundle match kept per locale (i18n-bundles.ts) translates exactly as the plugin does,
 * in both languages, and a bundle added later is used (the kept match is forgotten).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { I18n } from "@grammyjs/i18n";
import { describe, expect, it } from "vitest";
import { botI18n } from "../../src/bot/create-bot.js";
import { keepBundleMatches } from "../../src/bot/i18n-bundles.js";

const LOCALES = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../src/bot/locales");

function plain() {
  const i18n = new I18n({ defaultLocale: "en", fluentBundleOptions: { useIsolating: false } });
  i18n.loadLocalesDirSync(LOCALES);
  return i18n;
}

describe("keeping Fluent's bundle match per locale", () => {
  it("translates every message of both languages as the plugin does", () => {
    const bot = botI18n();
    // The bot's instance keeps its matches (its own matchBundles); the reference does not.
    expect(Object.hasOwn(bot.fluent, "matchBundles")).toBe(true);
    const reference = plain();
    expect(Object.hasOwn(reference.fluent, "matchBundles")).toBe(false);
    const bundles = (reference.fluent as unknown as { bundles: Set<{ _messages: Map<string, unknown> }> })
      .bundles;
    const ids = [...new Set([...bundles].flatMap((b) => [...b._messages.keys()]))];
    expect(ids.length).toBeGreaterThan(50);
    // Every variable the catalogues use: counts as numbers (plurals), the rest as text.
    const numbers = ["max", "n", "count", "attempts", "perDay", "used", "daysBefore", "days", "hours"];
    const texts =
      "insurer name zone at date until to rules names from delivery channels vehicle reason phone opens insurers code closes allowed what state receiptsUntil receipt phoneRules period old homeRules example details bodies answer";
    const vars: Record<string, string | number> = {};
    for (const name of texts.split(" ")) vars[name] = `<${name}>`;
    for (const [i, name] of numbers.entries()) vars[name] = i + 1;
    const outcome = (i18n: ReturnType<typeof plain>, locale: string, id: string) => {
      try {
        return i18n.t(locale, id, vars);
      } catch (error) {
        return `throws ${String(error)}`;
      }
    };
    // A stray locale falls back to English, as it did; "zh-CN" negotiates to "zh".
    for (const locale of ["en", "zh", "zh-CN", "fr", "en", "zh"]) {
      for (const id of ids) {
        const got = outcome(bot as unknown as ReturnType<typeof plain>, locale, id);
        expect(got, `${locale} ${id}`).toBe(outcome(reference, locale, id));
        expect(got, `${locale} ${id}`).not.toMatch(/^throws/);
      }
    }
  });

  it("uses a bundle added after the match was kept", () => {
    const i18n = plain();
    expect(keepBundleMatches(i18n.fluent)).toBe(true);
    expect(i18n.t("fr", "unsupported")).toBe(i18n.t("en", "unsupported"));
    i18n.loadLocaleSync("fr", { source: "unsupported = Je ne comprends que le texte." });
    expect(i18n.t("fr", "unsupported")).toBe("Je ne comprends que le texte.");
    expect(i18n.t("en", "unsupported")).not.toBe("Je ne comprends que le texte.");
  });

  it("keeps nothing, and changes nothing, on a Fluent without the method", () => {
    const stranger = { bundles: new Set() };
    expect(keepBundleMatches(stranger)).toBe(false);
    expect(stranger).toEqual({ bundles: new Set() });
  });
});
