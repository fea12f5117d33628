/** `INSERT INTO table (cols) VALUES (@cols)` for a row object's keys. */
export function insertSql(table: string, row: object): string {
  const columns = Object.keys(row);
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`;
}
