/**
 * Deflate dictionary 1 of owner documents (document.ts, encoding `z1`/`b1`): what documents
 * typically say — field names in the order records are written, enum values, preferences, the
 * policy packs' opt-out bases, a receipt's header — so a document packs to little more than its
 * ids, digests, ciphertexts and signatures. FROZEN: stored documents name the dictionary they
 * were packed with, so a better one is a new entry (`z2`) beside this, never an edit of it.
 */
export const DICTIONARY_1 = Buffer.from(
  [
    '{"renewalDate":"2026-12-17","insurers":[""],"nobody":true,"channels":["call","sms","telegram","email"],"days":["mon","tue","wed","thu","fri","sat","sun"],"hours":[{"from":"09:00","to":"20:00"}],"daysBefore":30,"maxAttempts":3}',
    "CN telemarketing notice for property insurers: no call within one year; 2018 harassing-calls plan: no call after a refusal",
    "TCPA, 47 CFR 64.1200(d): company-specific do-not-call request; consent revoked",
    "UK GDPR Art. 21(2)-(3) and PECR reg. 21: objection to direct marketing",
    "GDPR Art. 21(2)-(3) and Art. 7(3): objection to direct marketing, consent withdrawn",
    '"revoke_reason":"superseded","revoke_reason":"owner_request","revoke_reason":"renewed","reason":"refused_on_call","reason":"deleted","reason":"owner_request"',
    '{"type":"window.revoked","type":"optout.withdrawn","state":"skipped","state":"pending","last_error":"',
    "eyJhbGciOiJFZERTQSIsImtpZCI6I",
    '{"schema":1,"owner":{"id":"","telegram_user_id":,"language":"zh","phone_enc":"v1.","phone_hash":"","phone_verified":1,"country":"CN","timezone":"Asia/Shanghai","jurisdiction":"CN","created_at":"2026-","updated_at":"2026-","version":1},',
    '"consents":[{"id":"","owner_id":"","preferences":"{\\"renewalDate\\":\\"2027-\\",\\"insurers\\":[\\"\\"],\\"channels\\":[\\"call\\",\\"sms\\"],\\"days\\":[\\"mon\\",\\"tue\\",\\"wed\\",\\"thu\\",\\"fri\\"],\\"hours\\":[{\\"from\\":\\"18:00\\",\\"to\\":\\"20:00\\"}],\\"daysBefore\\":30,\\"maxAttempts\\":3}","jurisdiction":"CN","timezone":"Asia/Shanghai","language":"zh","text_version":"2026-01","text_hash":"","agreed_at":"2026-"}],',
    '"receipts":[{"id":"","owner_id":"","insurer_id":"","consent_id":"","jws":"","payload_hash":"","issued_at":"2026-"}],',
    '"windows":[{"id":"","owner_id":"","insurer_id":"","receipt_id":"","consent_id":"","renewal_date":"2027-","opens_at":"2027-","closes_at":"2027-","timezone":"Asia/Shanghai","days":"[\\"mon\\",\\"tue\\",\\"wed\\",\\"thu\\",\\"fri\\"]","hours":"[{\\"from\\":\\"18:00\\",\\"to\\":\\"20:00\\"}]","channels":"[\\"call\\",\\"sms\\"]","max_attempts":3,"attempts_used":0,"verification_code":"","stop_token":"","created_at":"2026-","delivered_at":"2026-"}],',
    '"optOuts":[{"id":"","owner_id":"","insurer_id":"","phone_hash":"","match_key":"","reason":"not_chosen","effective_at":"2026-","honour_by":"2026-","basis":"","acknowledged_at":"2026-"}],',
    '"outbox":[{"id":"","insurer_id":"","owner_id":"","type":"window.opened","subject_id":"","webhook_id":"msg_","due_at":"2027-","created_at":"2026-","attempts":1,"state":"delivered","delivered_at":"2026-","next_attempt_at":"2026-","finished_at":"2026-"},{"id":"","insurer_id":"","owner_id":"","type":"optout.filed","subject_id":"","webhook_id":"msg_","due_at":"2026-","created_at":"2026-","attempts":1,"state":"delivered","delivered_at":"2026-","next_attempt_at":"2026-","finished_at":"2026-"}]}',
  ].join(""),
);
