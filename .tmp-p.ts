import { extractWithRules } from "./src/nlu/rules/index.js";

const directory = [
  { id: "pingan", name: "Ping An", aliases: ["平安", "PingAn", "中国平安"] },
  { id: "picc", name: "PICC", aliases: ["人保", "中国人保"] },
  { id: "cpic", name: "CPIC", aliases: ["太平洋", "China Pacific"] },
  { id: "allianz", name: "Allianz", aliases: ["安联"] },
];
const lines = process.argv.slice(2).length
  ? process.argv.slice(2)
  : (await import("node:fs")).readFileSync(0, "utf8").split("\n").filter(Boolean);
for (const t of lines)
  console.log(t.padEnd(50), JSON.stringify(extractWithRules({ text: t, today: "2026-12-01", directory })));
