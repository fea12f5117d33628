/**
 * Whether words typed at the car question can be the car ("Tesla Model 3", "my old Civic",
 * "沪A12345", "比亚迪汉"), rather than the owner talking about themselves ("I'm in a meeting",
 * "我在开会", "wait, let me check?"). A car is a short noun phrase: no sentence about "I",
 * "we" or "you", no question. The saved text goes to the chosen insurer, so a doubt asks again.
 */
const SENTENCE_EN =
  /\b(?:i|i'm|im|i am|i've|i'll|i'd|we|we're|you|you're|it's|its|this is|that's|let me|can't|cannot|don't|not now|later|busy|sorry|wait|hold on|one moment|a moment|in a meeting|driving now)\b/i;
const SENTENCE_ZH =
  /我(?!的|家)|你|您|我们|等一?下|稍等|稍后|晚点|回头|开会|在忙|很忙|不方便|没空|不知道|忘了|问一下/u;

const MAX_WORDS = 8;

export function looksLikeVehicle(text: string): boolean {
  const t = text.normalize("NFKC").trim();
  if (t.length === 0 || /[?？]/u.test(t)) return false;
  if (t.split(/\s+/).length > MAX_WORDS) return false;
  return !SENTENCE_EN.test(t) && !SENTENCE_ZH.test(t);
}
