// The insurer console: a client of the real insurer API. Each call carries the selected sandbox
// insurer's own API key as a bearer token — exactly what an insurer's system would send.
import { api, el, fillRows, when } from "./common.js";

const $ = (id) => document.getElementById(id);
const status = $("status");
let insurers = [];
let selected; // insurer view with apiKey
let lastSig = "";
let refreshing = false;

const say = (text) => {
  status.textContent = text;
};

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
        el("td", {}, i.contact ?? "—"),
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
          say(`Acknowledged (${label}).`);
          await api("/sandbox/api/notify", { method: "POST", body: {} }).catch(() => undefined);
        } catch (err) {
          say(`Acknowledge failed: ${err.message}`);
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
    el("td", {}, el("code", {}, w.id)),
    el("td", {}, el("span", { class: `state ${w.status}` }, w.status)),
    el("td", {}, owner),
    el("td", {}, w.renewalDate ?? "—"),
    el("td", {}, `${when(w.opensAt)} – ${when(w.closesAt)} (${w.timezone ?? ""})`),
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
    el("td", {}, w.acknowledgedAt ? when(w.acknowledgedAt) : "no"),
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
    el("td", {}, el("code", {}, o.id)),
    el("td", {}, o.reason),
    el("td", {}, when(o.effectiveAt)),
    el("td", {}, when(o.honourBy)),
    el("td", {}, o.until ? when(o.until) : "until withdrawn"),
    el("td", {}, el("code", { title: o.matchKey }, `${(o.matchKey ?? "").slice(0, 12)}…`)),
    el("td", {}, o.acknowledgedAt ? when(o.acknowledgedAt) : "no"),
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
      el("td", {}, o.nextAttemptAt ? when(o.nextAttemptAt) : "—"),
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
    say(`Refresh failed: ${err.message}`);
  } finally {
    refreshing = false;
  }
}

async function select(id, focus) {
  selected = insurers.find((i) => i.id === id);
  lastSig = "";
  const panel = $("insurer-panel");
  panel.hidden = !selected;
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
  const form = new FormData(e.currentTarget);
  try {
    const res = await api("/sandbox/api/insurers", {
      method: "POST",
      body: {
        id: String(form.get("id") ?? ""),
        name: String(form.get("name") ?? ""),
        aliases: String(form.get("aliases") ?? ""),
        contact: String(form.get("contact") ?? ""),
      },
    });
    e.currentTarget.reset();
    say(`Added ${res.insurer.name}; ${res.backfilled} opt-out(s) backfilled for existing owners.`);
    await refresh(true);
    await select(res.insurer.id, true);
  } catch (err) {
    say(`Could not add the insurer: ${err.message}`);
  }
});

$("scrub-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const numbers = $("scrub-input")
    .value.split(/[\s,]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  const out = $("scrub-result");
  if (!selected || numbers.length === 0) return;
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
});

$("verify-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("verify-result");
  const jws = $("verify-input").value.trim();
  if (!jws) return;
  try {
    const res = await api("/v1/receipts/verify", { method: "POST", body: { jws } });
    out.replaceChildren(
      el(
        "p",
        { class: res.valid ? "ok" : "bad" },
        res.valid ? "Signature valid" : "Signature NOT valid",
        res.revoked ? " · revoked" : res.valid ? " · not revoked" : "",
      ),
      res.payload ? el("pre", {}, JSON.stringify(res.payload, null, 2)) : null,
    );
  } catch (err) {
    out.textContent = `Verification failed: ${err.message}`;
  }
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

init().catch((err) => say(err.message));
