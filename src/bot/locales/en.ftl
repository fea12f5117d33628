## Onboarding
welcome =
    Hello! I'm onewindow. I stop insurance sales calls you never asked for.
    Tell me once when your car insurance renews and who may contact you. The insurer you choose gets one time-boxed window with a verification code; every other insurer is told not to contact you.
    You can answer with the buttons or just write, e.g. "expires end of July, only Ping An, text me on weekday evenings".
welcome-back = Welcome back! Your choice is on file. /status shows it, /edit changes it, /stop stops an insurer.
ask-phone = First, your phone number: tap "Share my contact" below. Telegram confirms it is yours, and it is stored encrypted.
button-share-contact = 📱 Share my contact
phone-verified = ✅ Phone number confirmed: { $phone }
phone-typed = I saved { $phone }, but a typed number is not verified: insurers can be told to stop calling it, but none can be offered a contact window. Share your contact (button below) to verify it.
phone-not-yours = That is someone else's contact card. I can only take consent for your own number: tap "Share my contact".
phone-bad = That doesn't look like a phone number. Tap "Share my contact", or type it with the country code, e.g. +86 138 0013 8000.
phone-changed-reagree = Your number changed, so { $insurers } will not get it until you agree again: what you agreed to was for your old number, and is withdrawn. Tap "I agree" on the summary to give them your new number, or /edit to change your choice. Every insurer you said no to gets an opt-out for the new number too.
phone-changed-optouts = Your number changed: every insurer you said no to gets an opt-out for the new number too.
ask-timezone = Where do you live? Calling hours are kept in your time zone (now: { $zone }). Tap it, or write your city, for example: Beijing, Los Angeles, London.
timezone-saved = Time zone: { $zone }. The calling hours you choose are in { $name }.
timezone-bad = I don't know that place. Tap your time zone, or write the city you live in (for example: Beijing, Los Angeles).
ask-vehicle = Optional: which car is it (model or plate)? It helps the insurer quote. Or tap Skip.
button-skip = Skip
vehicle-saved = Saved: { $vehicle }
ask-renewal = When does your policy expire? For example: 31 July, end of next month, 2027-03-15.
renewal-bad = I couldn't read a date in that. Please write the expiry date, for example: 31 July or 2027-03-15.
ask-insurers = Who may contact you about the renewal? Tap one or more insurers, then Done. Everyone you don't pick gets an opt-out notice.
button-nobody = 🚫 Nobody, I renew myself
button-done = Done ➡️
insurers-unknown = I don't know that insurer.
insurers-did-you-mean = Did you mean:
ask-channels = How may they contact you? Tap all that are fine, then Done.
ask-days = On which days?
button-weekdays = Mon–Fri
button-weekends = Sat–Sun
button-every-day = Every day
ask-hours = At what times? (Allowed here: { $from }–{ $to }.) Tap one or more, then Done.
ask-days-before = How early before the expiry date may they start? (At most { $max } days here.)
ask-attempts = At most how many contact attempts in total?
pick-at-least-one = Pick at least one, then Done.
not-understood = Sorry, I didn't get that. { $example }
example-channels = For example: "text only" or "calls and Telegram".
example-days = For example: "weekdays" or "Mon and Thu".
example-hours = For example: "after 6pm" or "9 to 12".
example-days-before = For example: "2 weeks before" or "30 days".
example-attempts = For example: "at most 3 times".
example-vehicle = For example: "BYD Han" or a plate like "粤B 12345" — not a phone number.
understood = Got it: { $what }
outdated-button = That question was already answered.
## Domain notes
note-date-past = { $date } is in the past. Please give the upcoming expiry date.
note-date-too-far = { $date } is more than 13 months away. Please give the upcoming expiry date.
note-hours-clipped = You asked for { $from }–{ $to }, but calling hours here are limited to { $allowed }, so I kept only the part within them.
note-hours-dropped = { $from }–{ $to } is outside the allowed calling hours ({ $allowed }), so I left it out.
note-days-before-clipped = Contact may start at most { $max } days before expiry here, so I used { $max }.
note-attempts-clipped = I capped attempts at { $max }.
note-unknown-insurer = I don't know the insurer "{ $name }".
## Summary and consent
summary-title = Please check your choice:
summary-renewal = Policy expires: { $date }
summary-nobody = Who may contact you: nobody. Every insurer gets an opt-out notice.
summary-insurers = Who may contact you: { $names }
summary-how = How: { $channels } · { $days } · { $hours } ({ $zone })
summary-when = From { $daysBefore } { $daysBefore ->
        [one] day
       *[other] days
    } before expiry, at most { $attempts } { $attempts ->
        [one] attempt
       *[other] attempts
    }{ $perDay ->
        [0] {""}
       *[other] , at most { $perDay } a day
    }.
summary-others = Every other insurer gets an opt-out notice ({ $period }).
summary-consent-heading = Consent text for { $insurer }:
button-agree = ✅ I agree
button-change = ✏️ Change something
agree-needs-verified = To let an insurer contact you, your phone must be verified: tap "Share my contact".
agreed = ✅ Done. Your choice is signed and on file.
agreed-window = { $insurer }: window { $opens } – { $closes } ({ $zone }). Their agent must quote code { $code } — if a caller can't, it is not them.
agreed-receipt = Receipt { $receipt }
agreed-nobody = Nobody may contact you about this renewal.
agreed-optouts = { $count ->
        [one] An opt-out notice is filed for 1 other insurer.
       *[other] Opt-out notices are filed for { $count } other insurers.
    }
ask-change = What would you like to change?
field-renewalDate = Expiry date
field-insurers = Who
field-channels = How
field-days = Days
field-hours = Hours
field-daysBefore = How early
field-maxAttempts = Attempts
## Words
channel-call = call
channel-sms = SMS
channel-telegram = Telegram
channel-email = e-mail
day-mon = Mon
day-tue = Tue
day-wed = Wed
day-thu = Thu
day-fri = Fri
day-sat = Sat
day-sun = Sun
hours-morning = Morning
hours-afternoon = Afternoon
hours-evening = Evening
hours-any = Any allowed time
days-count = { $n } { $n ->
        [one] day
       *[other] days
    }
period-until-withdrawn = until you withdraw it
## Status
status-none = Nothing on file yet. Send /start to set up.
status-title = Your renewal: { $date }
status-window = { $insurer }: window { $state } { $opens } – { $closes } ({ $zone }), code { $code }, attempts { $used }/{ $max }{ $delivery }
status-optout = { $insurer }: may not contact you ({ $reason }) until { $until }{ $delivery }
status-optout-forever = { $insurer }: may not contact you ({ $reason }), until you withdraw it{ $delivery }
status-delivery-pending = ; notice being sent
status-delivery-delivered = ; notice delivered
status-delivery-acknowledged = , acknowledged { $at }
status-delivery-dead = ; push failed for good (the notice is still on their pull feed)
status-delivery-delivered-at = ; notice delivered { $at }
status-delivery-retrying = ; push failed { $attempts ->
        [one] once
       *[other] { $attempts } times
    }, retrying (the notice is on their pull feed meanwhile)
status-checks-title = Who checked your number:
status-check = • { $insurer }, { $at }: { $answer }
status-check-answer-consented = told they may contact you
status-check-answer-do_not_contact = told not to contact you
status-check-answer-match_key = looked up your match key
status-checks-none = Nobody has checked your number yet.
list-more = …and { $n } more
window-state-scheduled = scheduled
window-state-open = open
window-state-closed = closed
window-state-revoked = revoked
window-state-exhausted = used up
reason-not_chosen = not chosen
reason-owner_request = you stopped them
reason-refused_on_call = you refused on a call
reason-renewed = already renewed
reason-deleted = data deleted
## Owner notifications
ack-digest-title = Insurers confirmed they received your notices:
ack-digest-optout = • { $insurer } acknowledged your opt-out ({ $at })
ack-digest-window = • { $insurer } acknowledged your contact window ({ $at })
ack-reminder = { $insurer } has not acknowledged your contact window in 72 hours. /edit to choose another insurer, /stop to stop them.
refused-on-call = You refused { $insurer } on a call, so an opt-out is filed: they may not contact you until { $until }.
refused-on-call-forever = You refused { $insurer } on a call, so an opt-out is filed: they may not contact you until you withdraw it.
## Intents: what the bot says to a message that is not a choice
report-intent = I'm sorry that happened. Nothing in your choice has changed.
report-intent-named = I'm sorry about that contact from, or in the name of, { $insurer }. Nothing in your choice has changed.
report-help =
    To report a call or message that came anyway, note down now, while you remember:
    • when it came (date and time) and how long it lasted;
    • the number it came from;
    • who they said they were, and whether they quoted a verification code (only an insurer you agreed to gets one from onewindow; no one else can know it);
    • what they said or asked for.
    Where to complain: { $bodies }
    /status shows when each insurer's opt-out was filed, and whether its notice was delivered.
    /report shows this list again.
complain-CN = 12321 (harassing calls: your number, the caller's number, type, time, duration, description) and the insurance regulator's hotline 12378 (insurer, salesperson, facts, your request).
complain-US = the FTC at donotcall.gov (date and time, calling number, company, whether you asked them to stop).
complain-UK = the ICO or the TPS (company, number, date and time).
complain-EU = your country's data-protection authority (company, number, date and time, that you objected).
renewed-ask = You already renewed? Then I'll close any open contact window and file an opt-out with every insurer.
button-renewed-yes = ✅ Yes, I renewed
renewed-cancelled = OK, nothing changed.
stop-intent-ask = Stop them? One tap files an opt-out:
stop-intent-everyone = Stop every insurer from contacting you? One tap files the opt-outs:
stop-intent-already = Already opted out: { $insurers }.
stop-intent-unknown = I don't know an insurer called "{ $name }".
stop-intent-did-you-mean = I don't know "{ $name }". Did you mean:
question-answer =
    About onewindow:
    • You choose once who may contact you before your renewal, how and when; every other insurer is told not to.
    • /stop stops any insurer with one tap; /renewed if you already renewed.
    • /report: a call came anyway — what to note down and where to complain.
    • /status shows who may contact you and where each notice stands; /export downloads your data; /delete erases it.
    • /privacy: who sees what. /help lists every command.
other-in-flow = Noted. Let's go on where we were:
other-idle-consent = Your choice is on file: /status shows it, /edit changes it, /stop stops an insurer, /report if a call came anyway.
other-idle-new = Send /start to set up who may contact you; /help lists what I can do.
summary-outdated = That summary is out of date. Please check the newest one below it and tap "I agree" there.
change-none = That is what you already agreed to: nothing changed.
needs-phone-first = First share your phone number (the question above): then I can do that.
summary-unchanged = Your summary above is unchanged: tap "I agree" when it is right, or "Change something".
change-needs-agree = That changes what you agreed to, so it needs a new "I agree": here is the summary with the change.
ambiguous-insurer = "{ $name }" fits several insurers. Which one do you mean?
understood-without = not by { $channels }
note-channels-none-left = Without { $channels } there would be no way left to contact you: choose at least one way below.
cmd-report = A call came anyway
## Stop, renewed, delete, export
stop-ask = Who should stop contacting you? One tap files an opt-out.
button-stop-everyone = 🛑 Everyone
stop-nothing = No insurer to stop: every insurer already has your opt-out.
stopped = 🛑 Opt-out filed for { $insurer }: no contact until { $until }. /status shows when the notice reaches them.
stopped-forever = 🛑 Opt-out filed for { $insurer }, until you withdraw it. /status shows when the notice reaches them.
stopped-all = 🛑 Opt-outs filed for every insurer. /status shows when each notice arrives.
stop-link-invalid = That stop link is not valid any more.
renewed-done = 👍 Noted: already renewed. Open windows are closed and opt-outs filed; /status shows when each notice arrives.
renewed-nothing = Noted. There was nothing open to close.
export-caption = Everything onewindow holds about you.
delete-ask = Delete your data? Windows are revoked and every insurer keeps an opt-out. This cannot be undone.
button-delete-yes = Yes, delete
button-cancel = Cancel
deleted =
    🗑 Deleted: your phone number, name, car and preferences.
    Kept, without your number: each receipt's id, hash and revocation time for 5 years (until { $receiptsUntil }), so insurers can check it was revoked; and a keyed hash with each opt-out until it expires, so the opt-outs keep working.
delete-cancelled = Nothing was deleted.
## Misc
language-ask = Choose your language:
language-set = Language: English
privacy =
    Privacy:
    • Telegram carries this chat.
    • Your phone number is stored encrypted; it is never written to logs.
    • Only the insurer you choose sees your number, your car and the expiry date — your name only if you chose to share it — and only during the window you agreed to.
    • Other insurers get an opt-out with a code that only matches a number they already hold; they never learn your number from us.
    • If a language model is configured, it only sees your messages with phone numbers, plates, e-mails and names removed.
    • /export downloads everything; /delete erases it.
help =
    /start — set up, or continue
    /status — who may contact you, and each notice
    /edit — change your choice (a new receipt replaces the old one)
    /stop — stop an insurer, or everyone
    /renewed — I already renewed
    /report — a call came anyway: what to note, where to complain
    /export — download your data
    /delete — delete your data
    /language — English / 中文
    /privacy — who sees what
unsupported = I understand text, buttons and contact cards only. /help lists what I can do.
rate-limited = You're sending messages very fast; I'll catch up in a moment.
error = Sorry, something went wrong on my side. Nothing was lost; please try again.
error-storage = I could not save that just now: my storage is not taking changes. Nothing was changed, and the buttons above still work: please try again in a minute.
cmd-start = Set up or continue
cmd-status = Who may contact you, and each notice
cmd-edit = Change your choice
cmd-stop = Stop an insurer
cmd-renewed = I already renewed
cmd-export = Download your data
cmd-delete = Delete your data
cmd-language = Language
cmd-privacy = Who sees what
cmd-help = Help
language-code = en
timezone-needs-agree = The window on file stays in { $old } until you agree to the summary below, in { $name }.
ask-rules = Your number is from { $phoneRules }, but you live in { $homeRules }. Which rules should protect you? They set the calling hours, how early insurers may start, and how long an opt-out lasts.
button-rules-phone = 📱 { $rules } (my number's)
button-rules-home = 🏠 { $rules } (where I live)
rules-saved = The rules of { $rules } protect you now.
rules-CN = China
rules-US = the United States
rules-UK = the United Kingdom
rules-EU = the European Union
rules-name-CN = China
rules-name-US = United States
rules-name-UK = United Kingdom
rules-name-EU = European Union
field-timezone = 🌐 Time zone
note-insurer-not-choosable = { $name } cannot be chosen yet: it has not given onewindow a contact line for the consent text. It can still be stopped.
summary-shared = { $count ->
        [one] The insurer sees
       *[other] Each insurer sees
    }: { $details }.
shared-phone = your phone number
shared-renewal = the expiry date
shared-vehicle = your car ({ $vehicle })
shared-name = your name ({ $name })
button-name-share = 👤 Also share my name ({ $name })
button-name-hide = 👤 Don't share my name
agreed-optouts-sending = Being sent now to { $names }.
agreed-optouts-feed = Waiting on the pull feed of { $names }: { $count ->
        [one] it has
       *[other] they have
    } no push address, so { $count ->
        [one] it sees
       *[other] they see
    } the notice when { $count ->
        [one] it next reads its feed
       *[other] they next read their feeds
    }.
agreed-optouts-none = The opt-outs already on file for every other insurer stand.
agreed-optouts-status = /status shows when each notice arrives and is acknowledged.
understood-attempts = at most { $n } { $n ->
        [one] attempt
       *[other] attempts
    }
status-delivery-feed = ; notice on their pull feed (they have no push address)
