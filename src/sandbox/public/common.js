// Shared helpers of the sandbox pages: no framework, no network beyond this origin.

/** Builds an element: el("li", { class: "x", onclick }, child, "text", …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** JSON request to this origin; throws Error(message) on a non-2xx answer. */
export async function api(path, { method = "GET", body, headers = {}, signal } = {}) {
  const res = await fetch(path, {
    method,
    signal,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const message = data?.error?.message ?? `${res.status} ${res.statusText}`;
    const err = new Error(message);
    err.status = res.status;
    err.data = data;
    throw err;
  }
  return data;
}

/** "2026-12-01T02:00:00.000Z" → "2026-12-01 02:00 UTC". */
export function when(iso) {
  if (!iso) return "—";
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The same, as a span that never breaks inside. */
export function whenEl(iso) {
  return el("span", { class: "nowrap" }, when(iso));
}

/** Replaces a tbody's rows, or shows one "empty" row. */
export function fillRows(tbody, rows, columns, emptyText) {
  tbody.replaceChildren(
    ...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: columns, class: "hint" }, emptyText))]),
  );
}
