// The insurer console: a client of the real insurer API. Each call carries the selected sandbox
// insurer's own API key as a bearer token — exactly what an insurer's system would send.
import { api, el, fillRows, when, whenEl } from "./common.js";

const $ = (id) => document.getElementById(id);
const status = $("status");
let insurers = [];
let selected; // insurer view with apiKey
let lastSig = "";
let refreshing = false;

/** The confirmation of the last action, in the sticky bar (always on screen, announced politely). */
const say = (text, kind = "") => {
  status.textContent = text;
  status.className = `toast ${kind}`.trim();
};

/** Shows a result next to its control and brings it into view. */
const reveal = (node) => node.scrollIntoView({ block: "nearest" });

/** "Acting as: <name> (<id>)", kept in the sticky bar so the insurer in use is never in doubt. */
function renderActing() {
  $("acting-name").textContent = selected ? selected.name : "no insurer yet (open one in the directory)";
  $("acting-id").replaceChildren(selected ? el("span", {}, "(", el("code", {}, selected.id), ")") : "");
  document.title = `${selected ? `${selected.name} · ` : ""}onewindow sandbox · insurer console`;
}

/** The insurer API, authenticated as the selected insurer. */
const asInsurer = (path, options = {}) =>
  api(path, { ...options, headers: { authorization: `Bearer ${selected.apiKey}` } });

async function listAll(path) {
  const out = [];
  let after = null;
  for (let i = 0; i < 20; i++) {
    const page = await asInsurer(
      `${path}${path.includes("?") ? "&" : "?"}limit=500${after ? `&after=${encodeURIComponent(after)}` : ""}`,
    );
    out.push(...page.data);
    if (!page.next) break;
    after = page.next;
  }
  return out;
}

function renderDirectory(data) {
  insurers = data.insurers;
  const note = $("hidden-note");
  note.hidden = data.hiddenRealInsurers === 0;
  note.textContent = `${data.hiddenRealInsurers} real (non-sandbox) insurer(s) in this directory are not shown: the sandbox cannot act for them.`;
  fillRows(
    $("directory"),
    insurers.map((i) =>
      el(
        "tr",
        { class: selected?.id === i.id ? "selected" : "" },
        el("td", {}, i.name, i.demo ? el("span", { class: "badge small" }, "demo") : null),
        el("td", {}, el("code", {}, i.id)),
        // A phone-like contact line ("400-000-0001") never breaks inside.
        el(
          "td",
          {},
          /^[\d\s+()-]{3,24}$/.test(i.contact ?? "")
            ? el("span", { class: "nowrap" }, i.contact)
            : (i.contact ?? "—"),
        ),
        el(
          "td",
          {},
          el(
            "button",
            {
              type: "button",
              "aria-pressed": selected?.id === i.id ? "true" : "false",
              dataset: { insurer: i.id },
              onclick: () => select(i.id, true),
            },
            `Open ${i.name}`,
          ),
        ),
      ),
    ),
    4,
    "No sandbox insurers yet: add one below.",
  );
}

const ackButton = (label, path) =>
  el(
    "button",
    {
      type: "button",
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          await asInsurer(path, { method: "POST" });
          say(`Acknowledged (${label}) as ${selected.name}.`, "ok");
          await api("/sandbox/api/notify", { method: "POST", body: {} }).catch(() => undefined);
        } catch (err) {
          say(`Acknowledge failed: ${err.message}`, "bad");
        }
        await refresh(true);
      },
    },
    `Acknowledge ${label}`,
  );

function windowRow(w) {
  const owner = w.owner ? `${w.owner.phone}${w.owner.name ? ` (${w.owner.name})` : ""}` : "—";
  const hours = (w.hours ?? []).map((h) => `${h.from ?? ""}–${h.to ?? ""}`).join(", ");
  return el(
    "tr",
    { dataset: { window: w.id, status: w.status } },
    el("td", {}, el("code", { class: "long" }, w.id)),
    el("td", {}, el("span", { class: `state ${w.status}` }, w.status)),
    el("td", {}, owner),
    el("td", {}, el("span", { class: "nowrap" }, w.renewalDate ?? "—")),
    el("td", {}, whenEl(w.opensAt), " – ", whenEl(w.closesAt), w.timezone ? ` (${w.timezone})` : ""),
    el(
      "td",
      {},
      [(w.channels ?? []).join(", "), (w.days ?? []).join(" "), hours].filter(Boolean).join(" · "),
    ),
    el("td", {}, `${w.attemptsUsed ?? 0} / ${w.maxAttempts ?? "—"}`),
    el(
      "td",
      { class: "code" },
      w.verificationCode ? w.verificationCode.replace(/^(\d{3})(\d{3})$/, "$1-$2") : "—",
    ),
    el("td", {}, w.acknowledgedAt ? whenEl(w.acknowledgedAt) : "no"),
    el(
      "td",
      {},
      w.acknowledgedAt || w.status === "revoked"
        ? null
        : ackButton(`window ${w.id.slice(0, 8)}`, `/v1/windows/${encodeURIComponent(w.id)}/ack`),
      w.receipt?.jws
        ? el(
            "button",
            {
              type: "button",
              onclick: () => {
                $("verify-input").value = w.receipt.jws;
                $("verify-input").focus();
              },
            },
            "Check receipt",
          )
        : null,
    ),
  );
}

function optOutRow(o) {
  return el(
    "tr",
    { dataset: { optout: o.id, reason: o.reason } },
    el("td", {}, el("code", { class: "long" }, o.id)),
    el("td", {}, o.reason),
    el("td", {}, whenEl(o.effectiveAt)),
    el("td", {}, whenEl(o.honourBy)),
    el("td", {}, o.until ? whenEl(o.until) : "until withdrawn"),
    el("td", {}, el("code", { title: o.matchKey }, `${(o.matchKey ?? "").slice(0, 12)}…`)),
    el("td", {}, o.acknowledgedAt ? whenEl(o.acknowledgedAt) : "no"),
    el(
      "td",
      {},
      o.acknowledgedAt
        ? null
        : ackButton(`opt-out ${o.id.slice(0, 8)}`, `/v1/optouts/${encodeURIComponent(o.id)}/ack`),
    ),
  );
}

function deliveryRows(d) {
  const received = new Map(d.received.map((r) => [r.webhookId, r]));
  const rows = d.outbox.map((o) => {
    const r = received.get(o.webhookId);
    received.delete(o.webhookId);
    return el(
      "tr",
      { dataset: { type: o.type, state: o.state } },
      el("td", {}, el("code", {}, o.type)),
      el("td", {}, el("code", {}, o.subjectId.slice(0, 12))),
      el("td", {}, el("span", { class: `state ${o.state}` }, o.state)),
      el("td", {}, String(o.attempts)),
      el("td", {}, o.nextAttemptAt ? whenEl(o.nextAttemptAt) : "—"),
      el("td", {}, o.dead ? "dead" : "no"),
      el(
        "td",
        {},
        r
          ? `${when(r.lastAt)}${r.count > 1 ? ` (×${r.count})` : ""}`
          : o.lastError
            ? `not yet: ${o.lastError}`
            : "not yet",
      ),
      el("td", {}, r ? (r.verified ? "✓ valid" : `✗ ${r.error ?? "invalid"}`) : "—"),
    );
  });
  // Deliveries received without an outbox entry we can see (e.g. an owner who was deleted).
  for (const r of received.values()) {
    rows.push(
      el(
        "tr",
        { dataset: { type: r.type, state: "received" } },
        el("td", {}, el("code", {}, r.type)),
        el("td", {}, el("code", {}, (r.subjectId ?? "").slice(0, 12))),
        el("td", {}, "—"),
        el("td", {}, String(r.count)),
        el("td", {}, "—"),
        el("td", {}, "—"),
        el("td", {}, when(r.lastAt)),
        el("td", {}, r.verified ? "✓ valid" : `✗ ${r.error ?? "invalid"}`),
      ),
    );
  }
  return rows;
}

async function refresh(force = false) {
  if (refreshing) return;
  refreshing = true;
  try {
    renderDirectory(await api("/sandbox/api/insurers"));
    if (!selected) return;
    const fresh = insurers.find((i) => i.id === selected.id);
    if (!fresh) return;
    selected = fresh;
    renderActing();
    const [windows, optouts, deliveries] = await Promise.all([
      listAll("/v1/windows"),
      listAll("/v1/optouts"),
      api(`/sandbox/api/insurers/${encodeURIComponent(selected.id)}/deliveries`),
    ]);
    const sig = JSON.stringify([
      selected.id,
      windows,
      optouts,
      deliveries.outbox,
      deliveries.received.map((r) => [r.webhookId, r.count, r.verified]),
    ]);
    if (!force && sig === lastSig) return;
    lastSig = sig;
    fillRows(
      $("windows"),
      windows.map(windowRow),
      10,
      "No windows (scheduled windows stay invisible until they open).",
    );
    fillRows($("optouts"), optouts.map(optOutRow), 8, "No opt-outs.");
    fillRows($("deliveries"), deliveryRows(deliveries), 8, "No deliveries yet.");
  } catch (err) {
    say(`Refresh failed: ${err.message}`, "bad");
  } finally {
    refreshing = false;
  }
}

async function select(id, focus) {
  selected = insurers.find((i) => i.id === id);
  lastSig = "";
  const panel = $("insurer-panel");
  panel.hidden = !selected;
  renderActing();
  if (!selected) return;
  $("insurer-title").textContent = `${selected.name}${selected.demo ? " (demo data)" : ""}`;
  $("api-key").textContent = selected.apiKey ?? "(none issued in this process)";
  $("scrub-result").textContent = "";
  history.replaceState(null, "", `#${id}`);
  await refresh(true);
  if (focus) panel.focus();
}

$("add-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const formEl = e.currentTarget; // gone from the event once the handler awaits
  const out = $("add-result");
  const form = new FormData(formEl);
  let res;
  try {
    res = await api("/sandbox/api/insurers", {
      method: "POST",
      body: {
        id: String(form.get("id") ?? "").trim(),
        name: String(form.get("name") ?? ""),
        aliases: String(form.get("aliases") ?? ""),
        contact: String(form.get("contact") ?? ""),
      },
    });
  } catch (err) {
    out.replaceChildren(el("p", { class: "bad" }, `Could not add the insurer: ${err.message}`));
    say(`Could not add the insurer: ${err.message}`, "bad");
    reveal(out);
    return;
  }
  // Added: what follows only shows it, and never turns the success into a failure.
  formEl.reset();
  const creds = res.credentials ?? { id: res.insurer?.id, apiKey: res.insurer?.apiKey };
  const name = res.insurer?.name ?? creds.id;
  out.replaceChildren(
    el(
      "p",
      { class: "ok" },
      `Added ${name}; ${res.backfilled ?? 0} opt-out(s) backfilled for existing owners.`,
    ),
    el(
      "dl",
      { class: "fields credentials" },
      el("dt", {}, "Id"),
      el("dd", {}, el("code", {}, creds.id)),
      creds.apiKey ? [el("dt", {}, "API key"), el("dd", {}, el("code", {}, creds.apiKey))] : null,
      creds.webhookSecret
        ? [el("dt", {}, "Webhook secret"), el("dd", {}, el("code", {}, creds.webhookSecret))]
        : null,
    ),
    el(
      "p",
      { class: "hint" },
      "Shown once, as the CLI prints them: the API key is stored only as a hash (this sandbox keeps it in memory for the console).",
    ),
  );
  say(`Added ${name}. Its credentials are shown under “Add an insurer”.`, "ok");
  reveal(out);
  try {
    await refresh(true);
    await select(creds.id, false);
  } catch (err) {
    say(`Added ${name}, but the directory did not refresh: ${err.message}`, "bad");
  }
});

$("scrub-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const numbers = $("scrub-input")
    .value.split(/[\s,]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  const out = $("scrub-result");
  if (!selected || numbers.length === 0) {
    out.textContent = "Type at least one phone number.";
    reveal(out);
    return;
  }
  try {
    const res = await asInsurer("/v1/scrub", { method: "POST", body: { numbers } });
    out.replaceChildren(
      el(
        "ul",
        {},
        res.results.map((r) =>
          el(
            "li",
            {},
            `${r.number}: ${r.status}${r.until ? ` until ${when(r.until)}` : ""}${r.windowId ? ` (window ${r.windowId})` : ""}`,
          ),
        ),
      ),
    );
  } catch (err) {
    out.textContent = `Scrub failed: ${err.message}`;
  }
  reveal(out);
});

const LABELS = {
  version: "Format",
  jurisdiction: "Jurisdiction",
  iat: "Issued",
  exp: "Expires",
  nbf: "Not before",
  jti: "Receipt id",
  iss: "Issuer",
  sub: "Owner (pseudonymous)",
  recipient: "Recipient",
  windowId: "Window",
  purpose: "Purpose",
  channels: "Channels",
  window: "Contact window",
  opensAt: "opens",
  closesAt: "closes",
  timezone: "time zone",
  days: "days",
  hours: "hours",
  maxAttempts: "at most attempts",
  renewalDate: "Renewal date",
  dataCategories: "Data shared",
  consentText: "Consent text",
  sha256: "SHA-256",
  language: "language",
  phoneVerified: "Phone verified by Telegram",
  retention: "Kept for",
  id: "id",
  name: "name",
  contact: "contact line",
};
const label = (key) => LABELS[key] ?? key.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/_/g, " ");
const absent = (v) => v === null || v === undefined || v === "";

/** One payload value as text; absent values never print (no "null"). */
function valueText(key, v) {
  if (typeof v === "boolean") return v ? "yes" : "no";
  if ((key === "iat" || key === "exp" || key === "nbf") && typeof v === "number")
    return when(new Date(v * 1000).toISOString());
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}T/.test(v)) return when(v);
  if (Array.isArray(v))
    return v
      .filter((x) => !absent(x))
      .map((x) =>
        typeof x === "object" && "from" in x && "to" in x
          ? `${x.from}–${x.to}`
          : typeof x === "object"
            ? JSON.stringify(x)
            : String(x),
      )
      .join(", ");
  return String(v);
}

/** The payload as a definition list; nested objects (recipient, window, consent text) as one line each. */
function payloadFields(payload) {
  const list = el("dl", { class: "fields" });
  for (const [key, v] of Object.entries(payload ?? {})) {
    if (absent(v)) continue;
    let text;
    if (key === "recipient" && typeof v === "object" && v.id) {
      text = [`${v.name ?? v.id} (${v.id})`, v.contact ? `contact line ${v.contact}` : ""]
        .filter(Boolean)
        .join(" · ");
    } else if (typeof v === "object" && !Array.isArray(v)) {
      text = Object.entries(v)
        .filter(([, x]) => !absent(x))
        .map(([k, x]) => `${label(k)}: ${valueText(k, x)}`)
        .join(" · ");
    } else text = valueText(key, v);
    if (text === "") continue;
    list.append(el("dt", {}, label(key)), el("dd", {}, text));
  }
  return list;
}

$("verify-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("verify-result");
  const jws = $("verify-input").value.trim();
  if (!jws) {
    out.replaceChildren(el("p", { class: "bad" }, "Paste a consent receipt (a compact JWS) first."));
    reveal(out);
    return;
  }
  try {
    const res = await api("/v1/receipts/verify", { method: "POST", body: { jws } });
    const parts = [
      el(
        "p",
        { class: res.valid ? "ok" : "bad" },
        res.valid
          ? "✓ Signature valid: onewindow signed this receipt and it is unaltered."
          : "✗ Signature not valid: onewindow did not sign this, or it was altered.",
      ),
    ];
    if (res.valid) {
      parts.push(
        el(
          "p",
          { class: res.revoked ? "bad" : "ok" },
          res.revoked
            ? "Revoked: the owner withdrew or replaced this consent; do not contact on it."
            : "Not revoked: the consent stands.",
        ),
      );
    }
    if (res.payload && typeof res.payload === "object") {
      parts.push(
        payloadFields(res.payload),
        el(
          "details",
          {},
          el("summary", {}, "Raw payload"),
          el(
            "pre",
            {},
            JSON.stringify(res.payload, (_, v) => (v === null ? undefined : v), 2),
          ),
        ),
      );
    }
    out.replaceChildren(...parts);
  } catch (err) {
    out.replaceChildren(el("p", { class: "bad" }, `Verification failed: ${err.message}`));
  }
  reveal(out);
});

async function init() {
  await refresh(true);
  const wanted = location.hash.slice(1);
  const initial = insurers.find((i) => i.id === wanted) ?? insurers[0];
  if (initial) await select(initial.id, false);
  setInterval(() => refresh(false), 1500);
  window.addEventListener("hashchange", () => {
    const id = location.hash.slice(1);
    if (id !== selected?.id && insurers.some((i) => i.id === id)) select(id, true);
  });
}

renderActing();
init().catch((err) => say(err.message, "bad"));
