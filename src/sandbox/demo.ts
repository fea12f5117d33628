/**
 * The demo directory: three fictional insurers, created only when the directory is empty and
 * only by the sandbox (which never runs with a token). Names say "(demo)"; they are sandbox data.
 */
export const DEMO_INSURERS = [
  {
    id: "demo-northwind",
    name: "Northwind Mutual (demo)",
    aliases: ["Northwind", "北风保险", "北风"],
    contact: "400-000-0001 (fictional demo line)",
  },
  {
    id: "demo-harbor",
    name: "Harbor Auto (demo)",
    aliases: ["Harbor", "港湾车险", "港湾"],
    contact: "400-000-0002 (fictional demo line)",
  },
  {
    id: "demo-lotus",
    name: "Lotus Insurance (demo)",
    aliases: ["Lotus", "莲花保险", "莲花"],
    contact: "400-000-0003 (fictional demo line)",
  },
] as const;

export const isDemoInsurer = (id: string): boolean => DEMO_INSURERS.some((d) => d.id === id);
