/**
 * @grammyjs/i18n's Fluent finds the bundles for the locale again on every `t()` call
 * (`matchBundles`: every loaded bundle's locales into a new array, `negotiateLanguages`, a
 * new Set) — measured at about 5 µs of a 7 µs call, and /status makes some sixty calls. The
 * answer depends only on the locales asked for and the bundles loaded, so it is kept per
 * locale list, and forgotten whenever a bundle is added.
 *
 * The plugin has no hook for this, and forking it for one memo is not worth it: the method is
 * wrapped on the one instance (it is TypeScript-private, not missing). Should a later version
 * of the plugin not have it, nothing is wrapped and every call matches as before.
 */

/** The part of the plugin's Fluent class this relies on. */
interface BundleMatcher {
  bundles: Set<unknown>;
  matchBundles(locales: string[]): Set<unknown>;
}

/** Locale lists kept at most (the bot asks for "en" and "zh"; anything else is a stray caller). */
const MAX_LOCALE_LISTS = 32;

/** Keeps `fluent`'s bundle match per locale list; false when the plugin has no such method. */
export function keepBundleMatches(fluent: object): boolean {
  const target = fluent as Partial<BundleMatcher>;
  const match = target.matchBundles;
  if (typeof match !== "function" || !(target.bundles instanceof Set)) return false;
  const bundles = target.bundles;
  const kept = new Map<string, Set<unknown>>();
  let loaded = bundles.size;
  target.matchBundles = (locales: string[]) => {
    if (bundles.size !== loaded || kept.size >= MAX_LOCALE_LISTS) {
      kept.clear();
      loaded = bundles.size;
    }
    const key = locales.join("\n");
    let matched = kept.get(key);
    if (matched === undefined) {
      matched = match.call(target, locales);
      kept.set(key, matched);
    }
    return matched;
  };
  return true;
}
