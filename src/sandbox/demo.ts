/**
 * The demo directory: three fictional insurers, created only when the directory is empty and
 * only by the sandbox (which never runs with a token). Names say "(demo)" (in Chinese too), so
 * the contact is just the fictional line; they are sandbox data.
 */
export const DEMO_INSURERS = [
  {
    id: "demo-northwind",
    name: "Northwind Mutual (demo)",
    nameZh: "北风互助（演示）",
    aliases: ["Northwind", "北风保险", "北风"],
    contact: "400-000-0001",
  },
  {
    id: "demo-harbor",
    name: "Harbor Auto (demo)",
    nameZh: "港湾车险（演示）",
    aliases: ["Harbor", "港湾车险", "港湾"],
    contact: "400-000-0002",
  },
  {
    id: "demo-lotus",
    name: "Lotus Insurance (demo)",
    nameZh: "莲花保险（演示）",
    aliases: ["Lotus", "莲花保险", "莲花"],
    contact: "400-000-0003",
  },
] as const;

export const isDemoInsurer = (id: string): boolean => DEMO_INSURERS.some((d) => d.id === id);
