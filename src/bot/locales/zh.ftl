## Onboarding
welcome =
    你好！我是 onewindow，帮你挡住没请求过的车险推销电话。
    告诉我一次：保单什么时候到期、允许谁联系你。你选的保险公司会得到一个有时限的联系窗口和核验码；其他所有保险公司都会收到“请勿联系”通知。
    可以点按钮，也可以直接写，例如：“7月底到期，只要平安，工作日晚上发短信”。
welcome-back = 欢迎回来！你的选择已登记。/status 查看，/edit 修改，/stop 让某家停止联系。
ask-phone = 首先是手机号：点下面的“分享我的联系方式”。Telegram 会确认号码属于你，号码加密保存。
button-share-contact = 📱 分享我的联系方式
phone-verified = ✅ 手机号已确认：{ $phone }
phone-typed = 已保存 { $phone }，但手动输入的号码未经验证：可以通知保险公司停止拨打，但不能开放给任何保险公司联系。点下面的按钮分享联系方式即可验证。
phone-not-yours = 这是别人的联系人卡片。只能为你本人的号码登记同意：请点“分享我的联系方式”。
phone-bad = 这看起来不像手机号。请点“分享我的联系方式”，或带国家码输入，例如 +86 138 0013 8000。
phone-changed-reagree = 你的号码变了。你之前同意的是旧号码，这份同意已撤回：在你重新同意之前，{ $insurers }拿不到新号码。在摘要上点“我同意”即可把新号码给他们，或用 /edit 修改选择。你拒绝过的保险公司也都会为新号码登记“请勿联系”。
phone-changed-optouts = 你的号码变了：你拒绝过的保险公司也都会为新号码登记“请勿联系”。
ask-timezone = 你住在哪里？来电时段按你所在的时区计算（现在：{ $zone }）。点选时区，或写出你所在的城市，例如：北京、洛杉矶、伦敦。
timezone-saved = 时区：{ $zone }。你选的来电时段按{ $name }计算。
timezone-bad = 没找到这个地方。请点选时区，或写出你所在的城市（例如：北京、洛杉矶）。
ask-vehicle = 可选：是哪辆车（车型或车牌）？方便保险公司报价。也可以点跳过。
button-skip = 跳过
vehicle-saved = 已保存：{ $vehicle }
ask-renewal = 保单哪天到期？例如：7月31日、下个月底、2027-03-15。
renewal-bad = 没能读出日期。请写到期日，例如：7月31日 或 2027-03-15。
ask-insurers = 续保时允许谁联系你？点选一家或多家，然后点“完成”。没选中的都会收到“请勿联系”通知。
button-nobody = 🚫 谁都不要，我自己续保
button-done = 完成 ➡️
insurers-unknown = 目录里没有这家保险公司。
insurers-did-you-mean = 你是不是想说：
ask-channels = 可以怎么联系你？点选所有可以的方式，然后点“完成”。
ask-days = 哪几天可以？
button-weekdays = 周一至周五
button-weekends = 周六周日
button-every-day = 每天
ask-hours = 什么时间？（此地允许 { $from }–{ $to }。）点选一个或多个，然后点“完成”。
ask-days-before = 到期前最早多少天可以开始联系？（此地最多 { $max } 天。）
ask-attempts = 总共最多联系几次？
pick-at-least-one = 请至少选一项，然后点“完成”。
not-understood = 抱歉，没看懂。{ $example }
example-channels = 例如：“只发短信” 或 “电话和 Telegram”。
example-days = 例如：“工作日” 或 “周一和周四”。
example-hours = 例如：“晚上6点以后” 或 “9点到12点”。
example-days-before = 例如：“提前两周” 或 “提前30天”。
example-attempts = 例如：“最多3次”。
example-vehicle = 例如：“比亚迪汉” 或车牌 “粤B 12345”，不要填手机号。
understood = 明白了：{ $what }
outdated-button = 这个问题已经回答过了。
## Domain notes
note-date-past = { $date } 已经过去了。请给出即将到来的到期日。
note-date-too-far = { $date } 在13个月之后。请给出即将到来的到期日。
note-hours-clipped = 你要求的 { $from }–{ $to } 超出此地允许的联系时间 { $allowed }，只保留了允许范围内的部分。
note-hours-dropped = { $from }–{ $to } 不在允许的联系时间（{ $allowed }）内，已去掉。
note-days-before-clipped = 此地最早只能在到期前 { $max } 天开始联系，已按 { $max } 天设置。
note-attempts-clipped = 联系次数上限设为 { $max }。
note-unknown-insurer = 目录里没有“{ $name }”。
## Summary and consent
summary-title = 请确认你的选择：
summary-renewal = 保单到期：{ $date }
summary-nobody = 允许联系：无。所有保险公司都会收到“请勿联系”通知。
summary-insurers = 允许联系：{ $names }
summary-how = 方式：{ $channels } · { $days } · { $hours }（{ $zone }）
summary-when = 到期前 { $daysBefore } 天起，共最多 { $attempts } 次{ $perDay ->
        [0] {""}
       *[other] ，每天最多 { $perDay } 次
    }。
summary-others = 其他所有保险公司都会收到“请勿联系”通知（{ $period }）。
summary-consent-heading = 给{ $insurer }的同意书：
button-agree = ✅ 我同意
button-change = ✏️ 修改
agree-needs-verified = 要允许保险公司联系你，手机号必须经过验证：请点“分享我的联系方式”。
agreed = ✅ 完成。你的选择已签名登记。
agreed-window = { $insurer }：窗口 { $opens } – { $closes }（{ $zone }）。对方业务员必须说出核验码 { $code }，说不出就不是他们。
agreed-receipt = 回执 { $receipt }
agreed-nobody = 这次续保谁都不能联系你。
agreed-optouts = 已为其他 { $count } 家保险公司登记“请勿联系”通知。
ask-change = 要修改哪一项？
field-renewalDate = 到期日
field-insurers = 允许谁
field-channels = 方式
field-days = 日期
field-hours = 时间
field-daysBefore = 提前多久
field-maxAttempts = 次数
## Words
channel-call = 电话
channel-sms = 短信
channel-telegram = Telegram
channel-email = 邮件
day-mon = 周一
day-tue = 周二
day-wed = 周三
day-thu = 周四
day-fri = 周五
day-sat = 周六
day-sun = 周日
hours-morning = 上午
hours-afternoon = 下午
hours-evening = 晚上
hours-any = 任何允许的时间
days-count = { $n } 天
period-until-withdrawn = 直到你撤回
## Status
status-none = 还没有登记。发送 /start 开始设置。
status-title = 你的保单到期：{ $date }
status-window = { $insurer }：窗口{ $state } { $opens } – { $closes }（{ $zone }），核验码 { $code }，已联系 { $used }/{ $max }{ $delivery }
status-optout = { $insurer }：不得联系你（{ $reason }），至 { $until }{ $delivery }
status-optout-forever = { $insurer }：不得联系你（{ $reason }），直到你撤回{ $delivery }
status-delivery-pending = ；通知正在发送
status-delivery-delivered = ；通知已送达
status-delivery-acknowledged = ，对方已确认 { $at }
status-delivery-dead = ；推送最终失败（通知仍在对方的拉取列表里）
status-delivery-delivered-at = ；通知已送达 { $at }
status-delivery-retrying = ；推送失败 { $attempts } 次，正在重试（通知已在对方的拉取列表里）
status-checks-title = 谁查询过你的号码：
status-check = • { $insurer }，{ $at }：{ $answer }
status-check-answer-consented = 答复可以联系你
status-check-answer-do_not_contact = 答复请勿联系
status-check-answer-match_key = 查询了你的匹配码
status-checks-none = 还没有人查询过你的号码。
list-more = …另有 { $n } 条
window-state-scheduled = 待开启
window-state-open = 开放中
window-state-closed = 已关闭
window-state-revoked = 已撤销
window-state-exhausted = 次数已用完
reason-not_chosen = 未被选择
reason-owner_request = 你已叫停
reason-refused_on_call = 你在电话中拒绝
reason-renewed = 已续保
reason-deleted = 数据已删除
## Owner notifications
ack-digest-title = 保险公司已确认收到你的通知：
ack-digest-optout = • { $insurer }已确认你的“请勿联系”通知（{ $at }）
ack-digest-window = • { $insurer }已确认你的联系窗口（{ $at }）
ack-reminder = { $insurer }在 72 小时内没有确认你的联系窗口。/edit 改选其他保险公司，/stop 叫停他们。
refused-on-call = 你在电话中拒绝了{ $insurer }，已登记“请勿联系”：对方在 { $until } 前不得联系你。
refused-on-call-forever = 你在电话中拒绝了{ $insurer }，已登记“请勿联系”：对方不得联系你，直到你撤回。
## Intents: what the bot says to a message that is not a choice
report-intent = 很抱歉遇到这种事。你的选择没有任何改变。
report-intent-named = 很抱歉遇到这次来自（或冒用）{ $insurer }名义的联系。你的选择没有任何改变。
report-help =
    要举报不请自来的电话或消息，请趁还记得先记下：
    • 什么时候来的（日期和时间），持续多久；
    • 来电或发信的号码；
    • 对方自称是谁，是否报出了核验码（只有你同意的保险公司会从 onewindow 拿到核验码，其他人不可能知道）；
    • 对方说了什么、要你做什么。
    可以投诉到：{ $bodies }
    /status 显示每家保险公司的“请勿联系”通知何时登记、是否已送达。
    随时发送 /report 再看这份清单。
complain-CN = 12321（骚扰电话：你的号码、来电号码、类型、时间、时长、描述）和保险监管热线 12378（保险公司、业务员、事实、你的诉求）。
complain-US = 美国联邦贸易委员会 donotcall.gov（日期时间、来电号码、公司、你是否要求过停止）。
complain-UK = ICO 或 TPS（公司、号码、日期时间）。
complain-EU = 你所在国家的数据保护机构（公司、号码、日期时间、你已反对）。
renewed-ask = 你已经续保了？那我会关闭所有开放的联系窗口，并为每家保险公司登记“请勿联系”。
button-renewed-yes = ✅ 是的，已续保
renewed-cancelled = 好的，什么都没改。
stop-intent-ask = 要叫停吗？点一下即登记拒绝：
stop-intent-everyone = 叫停所有保险公司？点一下即登记拒绝：
stop-intent-already = 已登记“请勿联系”的：{ $insurers }。
stop-intent-unknown = 目录里没有叫“{ $name }”的保险公司。
stop-intent-did-you-mean = 目录里没有“{ $name }”。你是指：
question-answer =
    关于 onewindow：
    • 你只需选择一次：续保前谁可以联系你、怎么联系、什么时间；其他保险公司都会被告知不要联系你。
    • /stop 一键叫停任何一家；已经续保请用 /renewed。
    • /report：还是有人打来了——该记下什么、去哪里投诉。
    • /status 查看谁可以联系你、每份通知的进展；/export 下载你的数据；/delete 删除。
    • /privacy：谁能看到什么。/help 列出所有命令。
other-in-flow = 收到。我们接着刚才的问题：
other-idle-consent = 你的选择已存档：/status 查看，/edit 修改，/stop 叫停某家，/report 如果还是有人打来。
other-idle-new = 发送 /start 设置谁可以联系你；/help 查看我能做什么。
summary-outdated = 这份摘要已经过时了。请查看下面最新的一份，在那里点“我同意”。
change-none = 这和你已同意的内容一样：没有任何改变。
needs-phone-first = 请先分享你的手机号（上面的问题），然后我才能办这件事。
summary-unchanged = 上面的摘要没有改变：确认无误请点“我同意”，或点“修改”。
change-needs-agree = 这会改变你已同意的内容，需要重新点“我同意”：这是修改后的摘要。
ambiguous-insurer = “{ $name }”对应好几家保险公司。你指的是哪一家？
understood-without = 不用{ $channels }
note-channels-none-left = 去掉{ $channels }就没有任何联系方式了：请在下面至少选一种。
cmd-report = 还是有人打来了
## Stop, renewed, delete, export
stop-ask = 让谁停止联系你？点一下即登记拒绝。
button-stop-everyone = 🛑 所有人
stop-nothing = 没有可叫停的：所有保险公司都已登记“请勿联系”。
stopped = 🛑 已为{ $insurer }登记“请勿联系”：{ $until } 前不得联系。/status 显示通知何时送达。
stopped-forever = 🛑 已为{ $insurer }登记“请勿联系”，直到你撤回。/status 显示通知何时送达。
stopped-all = 🛑 已为所有保险公司登记“请勿联系”。/status 显示每条通知何时送达。
stop-link-invalid = 这个停止链接已失效。
renewed-done = 👍 已记录：已续保。开放的窗口已关闭，并已登记“请勿联系”；/status 显示每条通知何时送达。
renewed-nothing = 已记录。没有需要关闭的窗口。
export-caption = onewindow 保存的关于你的全部数据。
delete-ask = 删除你的数据？窗口会被撤销，每家保险公司的“请勿联系”继续有效。此操作不可撤回。
button-delete-yes = 确认删除
button-cancel = 取消
deleted =
    🗑 已删除：你的手机号、姓名、车辆和偏好。
    保留（不含你的号码）：每份回执的编号、哈希和撤销时间，保留5年（至 { $receiptsUntil }），以便保险公司核验已撤销；每条拒绝通知的密钥哈希保留到其到期，以便拒绝继续有效。
delete-cancelled = 没有删除任何内容。
## Misc
language-ask = 选择语言：
language-set = 语言：中文
privacy =
    隐私说明：
    • 本对话经由 Telegram 传输。
    • 你的手机号加密保存，从不写入日志。
    • 只有你选择的保险公司能看到你的号码、车辆和到期日（姓名仅在你选择提供时），且仅在你同意的窗口期内。
    • 其他保险公司收到的拒绝通知只带一个匹配码，只能匹配他们已有的号码；他们不会从我们这里得知你的号码。
    • 如果配置了语言模型，它只会看到去除了手机号、车牌、邮箱和姓名的文字。
    • /export 下载全部数据；/delete 删除全部数据。
help =
    /start — 开始设置或继续
    /status — 谁可以联系你，以及每份通知
    /edit — 修改选择（新回执替换旧回执）
    /stop — 叫停某家或所有人
    /renewed — 我已续保
    /report — 还是有人打来了：记什么、去哪投诉
    /export — 下载我的数据
    /delete — 删除我的数据
    /language — English / 中文
    /privacy — 谁能看到什么
unsupported = 我只能理解文字、按钮和联系人卡片。/help 查看我能做什么。
rate-limited = 你发得太快了，我稍后处理。
error = 抱歉，我这边出了问题。没有丢失任何内容，请再试一次。
error-storage = 我现在无法保存：存储暂时不能写入。什么都没有改变，上面的按钮仍然有效，请一分钟后再试。
cmd-start = 开始设置或继续
cmd-status = 谁可以联系你，以及每份通知
cmd-edit = 修改选择
cmd-stop = 叫停保险公司
cmd-renewed = 我已续保
cmd-export = 下载我的数据
cmd-delete = 删除我的数据
cmd-language = 语言
cmd-privacy = 谁能看到什么
cmd-help = 帮助
language-code = zh
timezone-needs-agree = 在你同意下面按{ $name }计算的摘要之前，已登记的窗口仍按{ $old }计算。
ask-rules = 你的号码来自{ $phoneRules }，但你住在{ $homeRules }。按哪里的规则保护你？规则决定来电时段、保险公司最早何时可以开始联系，以及拒绝通知的有效期。
button-rules-phone = 📱 { $rules }（号码所在地）
button-rules-home = 🏠 { $rules }（居住地）
rules-saved = 现在按{ $rules }的规则保护你。
rules-CN = 中国
rules-US = 美国
rules-UK = 英国
rules-EU = 欧盟
rules-name-CN = 中国
rules-name-US = 美国
rules-name-UK = 英国
rules-name-EU = 欧盟
field-timezone = 🌐 时区
note-insurer-not-choosable = 暂时不能选择{ $name }：它还没有向 onewindow 提供同意书所需的联系方式。仍然可以叫停它。
summary-shared = 保险公司可以看到：{ $details }。
shared-phone = 你的手机号
shared-renewal = 到期日
shared-vehicle = 你的车辆（{ $vehicle }）
shared-name = 你的姓名（{ $name }）
button-name-share = 👤 也提供我的姓名（{ $name }）
button-name-hide = 👤 不提供我的姓名
agreed-optouts-sending = 正在推送给{ $names }。
agreed-optouts-feed = { $names }没有设置推送地址：通知放在对方的拉取列表里，对方下次读取时会看到。
agreed-optouts-none = 其他保险公司已有的“请勿联系”通知继续有效。
agreed-optouts-status = /status 显示每条通知何时送达、何时被确认。
understood-attempts = 最多 { $n } 次
status-delivery-feed = ；通知在对方的拉取列表里（对方没有推送地址）
