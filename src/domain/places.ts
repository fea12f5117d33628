/**
 * Places an owner may name for where they live, in Chinese (and English country names), with
 * their time zone. English city names come from city-timezones (nlu/rules/places.ts); this
 * table holds what that data set lacks. The first name listed for a zone is how the Chinese
 * chat names that zone ("洛杉矶（UTC-8）"). Pure data.
 */

const SHANGHAI = "Asia/Shanghai";

/** [zone, names…]: Chinese city, region and country names, then English country names. */
const PLACES: readonly (readonly [string, ...string[]])[] = [
  [
    SHANGHAI,
    "北京",
    "上海",
    "天津",
    "重庆",
    "广州",
    "深圳",
    "杭州",
    "南京",
    "苏州",
    "成都",
    "武汉",
    "西安",
    "郑州",
    "长沙",
    "沈阳",
    "大连",
    "青岛",
    "济南",
    "厦门",
    "福州",
    "合肥",
    "南昌",
    "昆明",
    "贵阳",
    "南宁",
    "海口",
    "三亚",
    "哈尔滨",
    "长春",
    "石家庄",
    "太原",
    "呼和浩特",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
    "拉萨",
    "宁波",
    "无锡",
    "东莞",
    "佛山",
    "珠海",
    "温州",
    "烟台",
    "中国",
    "国内",
    "大陆",
    "内地",
    "China",
    "Mainland China",
    "PRC",
  ],
  ["Asia/Hong_Kong", "香港", "Hong Kong"],
  ["Asia/Macau", "澳门", "Macau", "Macao"],
  ["Asia/Taipei", "台北", "台湾", "Taiwan"],
  ["Asia/Tokyo", "东京", "大阪", "日本", "Japan"],
  ["Asia/Seoul", "首尔", "韩国", "South Korea", "Korea"],
  ["Asia/Singapore", "新加坡", "Singapore"],
  ["Asia/Bangkok", "曼谷", "泰国", "Thailand"],
  ["Asia/Kuala_Lumpur", "吉隆坡", "马来西亚", "Malaysia"],
  ["Asia/Ho_Chi_Minh", "胡志明市", "河内", "越南", "Vietnam"],
  ["Asia/Manila", "马尼拉", "菲律宾", "Philippines"],
  ["Asia/Jakarta", "雅加达"],
  ["Asia/Dubai", "迪拜", "阿联酋", "United Arab Emirates", "UAE"],
  ["Asia/Kolkata", "新德里", "孟买", "印度", "India"],
  ["Europe/London", "伦敦", "英国", "United Kingdom", "UK", "Britain", "England", "Scotland", "Wales"],
  ["Europe/Dublin", "都柏林", "爱尔兰", "Ireland"],
  ["Europe/Paris", "巴黎", "法国", "France"],
  ["Europe/Berlin", "柏林", "法兰克福", "慕尼黑", "德国", "Germany"],
  ["Europe/Amsterdam", "阿姆斯特丹", "荷兰", "Netherlands", "Holland"],
  ["Europe/Brussels", "布鲁塞尔", "比利时", "Belgium"],
  ["Europe/Zurich", "苏黎世", "日内瓦", "瑞士", "Switzerland"],
  ["Europe/Rome", "罗马", "米兰", "意大利", "Italy"],
  ["Europe/Madrid", "马德里", "巴塞罗那", "西班牙", "Spain"],
  ["Europe/Stockholm", "斯德哥尔摩", "瑞典", "Sweden"],
  ["Europe/Moscow", "莫斯科"],
  ["America/New_York", "纽约", "波士顿", "华盛顿", "费城", "迈阿密", "亚特兰大"],
  ["America/Chicago", "芝加哥", "休斯顿", "达拉斯"],
  ["America/Denver", "丹佛"],
  ["America/Phoenix", "凤凰城"],
  ["America/Los_Angeles", "洛杉矶", "旧金山", "西雅图", "硅谷", "拉斯维加斯", "圣何塞"],
  ["America/Anchorage", "阿拉斯加"],
  ["Pacific/Honolulu", "檀香山", "夏威夷"],
  ["America/Toronto", "多伦多", "蒙特利尔", "渥太华"],
  ["America/Vancouver", "温哥华"],
  ["America/Mexico_City", "墨西哥城"],
  ["America/Sao_Paulo", "圣保罗"],
  ["Australia/Sydney", "悉尼", "堪培拉"],
  ["Australia/Melbourne", "墨尔本"],
  ["Australia/Brisbane", "布里斯班"],
  ["Australia/Perth", "珀斯"],
  ["Pacific/Auckland", "奥克兰", "新西兰", "New Zealand"],
];

/** Every name above, longest first (so "呼和浩特" is tried before a shorter name inside it). */
const BY_NAME: readonly (readonly [string, string])[] = PLACES.flatMap(([zone, ...names]) =>
  names.map((name) => [name.toLowerCase(), zone] as const),
).sort((a, b) => b[0].length - a[0].length);

/** The zone of a place named exactly ("上海", "japan"), if the table has it. */
export function placeZone(name: string): string | undefined {
  const wanted = name.trim().toLowerCase();
  return BY_NAME.find(([n]) => n === wanted)?.[1];
}

/** The zone of the table's place that `text` starts with ("上海工作" → Asia/Shanghai), if any. */
export function placeZoneAtStart(text: string): { zone: string; place: string } | undefined {
  const lower = text.toLowerCase();
  const hit = BY_NAME.find(([n]) => lower.startsWith(n));
  return hit ? { zone: hit[1], place: text.slice(0, hit[0].length) } : undefined;
}

/** How the Chinese chat names a zone: its first Chinese place name, if the table has one. */
export function zoneCityZh(zone: string): string | undefined {
  const names = PLACES.find(([z]) => z === zone)?.slice(1) ?? [];
  return names.find((n) => /[\u4e00-\u9fff]/.test(n));
}
