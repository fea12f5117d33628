import { suggestInsurers } from "./src/nlu/suggest.js";

const directory = [
  { id: "pingan", name: "Ping An", aliases: ["平安", "PingAn", "中国平安"] },
  { id: "picc", name: "PICC", aliases: ["人保", "中国人保"] },
  { id: "cpic", name: "CPIC", aliases: ["太平洋", "China Pacific"] },
  { id: "allianz", name: "Allianz", aliases: ["安联"] },
];
for (const t of [
  "Ping Ann",
  "太平洋保险公司",
  "PIC",
  "Alianz",
  "asdf qwerty",
  "人寿保险",
  "平按",
  "China Pacifc Insurance",
  "CPCI",
])
  console.log(
    t,
    suggestInsurers(t, directory).map((e) => e.id),
  );
