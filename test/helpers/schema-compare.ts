// Proves that the hand-kept SQL migrations create exactly what prisma/schema.prisma declares
// (Prisma's own `migrate diff` needs the schema engine, which does not run offline here).
//
// Three parts, so the comparison itself is a pure, testable function:
//   - describePrismaSchema(loadPrismaDmmf()): what the schema declares, from Prisma's DMMF, mapped
//     to the database objects `prisma migrate` would create for PostgreSQL (names, types, defaults,
//     keys, indexes, foreign keys);
//   - introspectDatabase(session): the same description read from information_schema / pg_catalog;
//   - compareSchema(expected, actual): one readable line per difference, [] when they agree.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlSession } from "../../src/db/sql-session.ts";

// ---------------------------------------------------------------------------------------------
// The description both sides are reduced to
// ---------------------------------------------------------------------------------------------

export type ReferentialAction = "CASCADE" | "RESTRICT" | "NO ACTION" | "SET NULL" | "SET DEFAULT";

export interface ColumnDescription {
  name: string;
  /** Element type as PostgreSQL prints it (`text`, `uuid`, `timestamp(3) with time zone`), or `enum <name>`. */
  type: string;
  isArray: boolean;
  nullable: boolean;
  /** Normalised default expression: `CURRENT_TIMESTAMP`, `autoincrement()`, `0`, `'queued'::task_status`; null for none. */
  default: string | null;
}

export interface IndexDescription {
  name: string;
  /** Column names in key order, with ` DESC` appended for descending keys. */
  columns: string[];
  /** Access method (`btree`, `hash`, …). */
  method: string;
  /** WHERE clause of a partial index (never declared by a Prisma schema). */
  predicate: string | null;
}

export interface ForeignKeyDescription {
  /**
   * The constraint name. The DMMF does not expose `@relation(map: "...")`, so the expected name is
   * always Prisma's default `<table>_<columns>_fkey`: a schema that maps a foreign key name needs
   * describePrismaSchema taught about it.
   */
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export interface TableDescription {
  name: string;
  columns: ColumnDescription[];
  primaryKey: IndexDescription | null;
  uniques: IndexDescription[];
  indexes: IndexDescription[];
  foreignKeys: ForeignKeyDescription[];
}

export interface EnumDescription {
  name: string;
  values: string[];
}

export interface SchemaDescription {
  tables: TableDescription[];
  enums: EnumDescription[];
}

// ---------------------------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------------------------

const list = (items: string[]): string => `(${items.join(", ")})`;
const columnType = (column: ColumnDescription): string => `${column.type}${column.isArray ? "[]" : ""}`;

/** Keys both maps by `key`, reports what only one side has, and calls `both` for the rest. */
function diffBy<T>(
  out: string[],
  expected: T[],
  actual: T[],
  key: (item: T) => string,
  label: (key: string) => string,
  both: (expected: T, actual: T, label: string) => void,
): void {
  const actualByKey = new Map(actual.map((item) => [key(item), item]));
  const expectedKeys = new Set(expected.map(key));
  for (const item of expected) {
    const k = key(item);
    const other = actualByKey.get(k);
    if (other === undefined) out.push(`${label(k)}: declared in schema, missing in database`);
    else both(item, other, label(k));
  }
  for (const item of actual) {
    const k = key(item);
    if (!expectedKeys.has(k)) out.push(`${label(k)}: in database, not declared in schema`);
  }
}

function compareIndexes(out: string[], kind: string, table: string, expected: IndexDescription[], actual: IndexDescription[]): void {
  diffBy(
    out,
    expected,
    actual,
    (index) => list(index.columns),
    (columns) => `${kind} ${table}${columns}`,
    (e, a, label) => {
      if (e.name !== a.name) out.push(`${label}: named ${e.name} in schema, ${a.name} in database`);
      if (e.method !== a.method) out.push(`${label}: method ${e.method} in schema, ${a.method} in database`);
      if (e.predicate !== a.predicate) {
        out.push(`${label}: ${e.predicate === null ? "not partial" : `WHERE ${e.predicate}`} in schema, ${a.predicate === null ? "not partial" : `WHERE ${a.predicate}`} in database`);
      }
    },
  );
}

/** Every difference between what the schema declares and what the database has; [] when they agree. */
export function compareSchema(expected: SchemaDescription, actual: SchemaDescription): string[] {
  const out: string[] = [];

  diffBy(
    out,
    expected.enums,
    actual.enums,
    (e) => e.name,
    (name) => `enum ${name}`,
    (e, a, label) => {
      if (list(e.values) !== list(a.values)) out.push(`${label}: values ${list(e.values)} in schema, ${list(a.values)} in database`);
    },
  );

  diffBy(
    out,
    expected.tables,
    actual.tables,
    (t) => t.name,
    (name) => `table ${name}`,
    (e, a) => {
      const table = e.name;
      diffBy(
        out,
        e.columns,
        a.columns,
        (c) => c.name,
        (name) => `column ${table}.${name}`,
        (ec, ac, label) => {
          if (ec.nullable !== ac.nullable) {
            out.push(`${label}: ${ec.nullable ? "nullable" : "NOT NULL"} in schema, ${ac.nullable ? "nullable" : "NOT NULL"} in database`);
          }
          if (ec.isArray !== ac.isArray) {
            out.push(`${label}: ${ec.isArray ? "a list" : "not a list"} in schema (${columnType(ec)}), ${ac.isArray ? "an array" : "not an array"} in database (${columnType(ac)})`);
          }
          if (ec.type !== ac.type) out.push(`${label}: type ${columnType(ec)} in schema, ${columnType(ac)} in database`);
          if (ec.default !== ac.default) out.push(`${label}: default ${ec.default ?? "none"} in schema, ${ac.default ?? "none"} in database`);
        },
      );

      if (e.primaryKey === null && a.primaryKey !== null) out.push(`primary key of ${table}: none in schema, ${list(a.primaryKey.columns)} in database`);
      else if (e.primaryKey !== null && a.primaryKey === null) out.push(`primary key of ${table}: ${list(e.primaryKey.columns)} in schema, none in database`);
      else if (e.primaryKey !== null && a.primaryKey !== null) {
        if (list(e.primaryKey.columns) !== list(a.primaryKey.columns)) {
          out.push(`primary key of ${table}: ${list(e.primaryKey.columns)} in schema, ${list(a.primaryKey.columns)} in database`);
        } else {
          compareIndexes(out, "primary key", table, [e.primaryKey], [a.primaryKey]);
        }
      }

      compareIndexes(out, "unique index", table, e.uniques, a.uniques);
      compareIndexes(out, "index", table, e.indexes, a.indexes);

      diffBy(
        out,
        e.foreignKeys,
        a.foreignKeys,
        (fk) => list(fk.columns),
        (columns) => `foreign key ${table}${columns}`,
        (ef, af, label) => {
          const eRef = `${ef.referencedTable}${list(ef.referencedColumns)}`;
          const aRef = `${af.referencedTable}${list(af.referencedColumns)}`;
          if (ef.name !== af.name) out.push(`${label}: named ${ef.name} in schema, ${af.name} in database`);
          if (eRef !== aRef) out.push(`${label}: references ${eRef} in schema, ${aRef} in database`);
          if (ef.onDelete !== af.onDelete) out.push(`${label}: ON DELETE ${ef.onDelete} in schema, ${af.onDelete} in database`);
          if (ef.onUpdate !== af.onUpdate) out.push(`${label}: ON UPDATE ${ef.onUpdate} in schema, ${af.onUpdate} in database`);
        },
      );
    },
  );

  return out;
}

// ---------------------------------------------------------------------------------------------
// What the Prisma schema declares (DMMF)
// ---------------------------------------------------------------------------------------------

/** The parts of Prisma's DMMF (`getDMMF().datamodel`) this module reads. */
export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName?: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  algorithm?: string;
  fields: { name: string; sortOrder?: "asc" | "desc" }[];
}

export interface DmmfDatamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

export const defaultSchemaPath = fileURLToPath(new URL("../../prisma/schema.prisma", import.meta.url));

// Minimal WebAssembly typings (@types/node 20 does not declare the WebAssembly global).
interface WasmExports {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: { get(index: number): unknown; set(index: number, value: unknown): void; grow(delta: number): number };
  __wbindgen_start(): void;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
}
interface WasmApi {
  Module: (new (bytes: Uint8Array) => object) & { imports(module: object): { module: string; name: string }[] };
  Instance: new (module: object, imports: object) => { exports: unknown };
}

let getDmmfFromWasm: ((params: string) => string) | undefined;

/**
 * Prisma's own schema parser: `get_dmmf` of the prisma-schema-wasm module the `prisma` CLI ships
 * (node_modules/prisma/build/prisma_schema_build_bg.wasm; @prisma/internals is not installed).
 * The few lines of glue below are what wasm-bindgen generates for that one function.
 */
function wasmGetDmmf(): (params: string) => string {
  if (getDmmfFromWasm) return getDmmfFromWasm;
  const require = createRequire(import.meta.url);
  const wasmPath = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "prisma_schema_build_bg.wasm");
  const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  // The imports below are called back by the instance, so they reach its exports through this holder.
  const instantiated: { exports?: WasmExports } = {};
  const exportsOf = (): WasmExports => {
    if (!instantiated.exports) throw new Error("prisma schema wasm used before it was instantiated");
    return instantiated.exports;
  };
  const text = (ptr: number, len: number): string => decoder.decode(new Uint8Array(exportsOf().memory.buffer, ptr, len));
  // wasm-bindgen suffixes import names with a hash that changes between Prisma releases, so the
  // imports are matched by prefix; an import this glue does not know fails loudly here.
  const glue: Record<string, (...args: number[]) => unknown> = {
    __wbg_set_message_: (ptr, len) => {
      throw new Error(`prisma schema wasm panicked: ${text(ptr, len)}`);
    },
    __wbg_Error_: (ptr, len) => new Error(text(ptr, len)),
    __wbg___wbindgen_throw_: (ptr, len) => {
      throw new Error(text(ptr, len));
    },
    __wbindgen_init_externref_table: () => {
      const table = exportsOf().__wbindgen_externrefs;
      const base = table.grow(4);
      table.set(0, undefined);
      table.set(base + 0, undefined);
      table.set(base + 1, null);
      table.set(base + 2, true);
      table.set(base + 3, false);
    },
  };
  const module = new wasm.Module(readFileSync(wasmPath));
  const imports: Record<string, Record<string, unknown>> = {};
  for (const { module: from, name } of wasm.Module.imports(module)) {
    const fn = Object.entries(glue).find(([prefix]) => name.startsWith(prefix))?.[1];
    if (!fn) throw new Error(`${wasmPath} imports ${from}.${name}, which test/helpers/schema-compare.ts does not provide (Prisma upgraded?)`);
    (imports[from] ??= {})[name] = fn;
  }
  const instance = new wasm.Instance(module, imports);
  instantiated.exports = instance.exports as WasmExports;
  instantiated.exports.__wbindgen_start();
  getDmmfFromWasm = (params) => {
    const e = exportsOf();
    const bytes = encoder.encode(params);
    const ptr = e.__wbindgen_malloc(bytes.length, 1);
    new Uint8Array(e.memory.buffer, ptr, bytes.length).set(bytes);
    const [outPtr, outLen, errorIndex, failed] = e.get_dmmf(ptr, bytes.length);
    if (failed) {
      const error = e.__wbindgen_externrefs.get(errorIndex);
      e.__externref_table_dealloc(errorIndex);
      throw error instanceof Error ? error : new Error(String(error));
    }
    try {
      return text(outPtr, outLen);
    } finally {
      e.__wbindgen_free(outPtr, outLen, 1);
    }
  };
  return getDmmfFromWasm;
}

/** Prisma's DMMF data model of a schema file (or of schema text, for tests of this module). */
export function loadPrismaDmmf(schema: { path: string } | { text: string } = { path: defaultSchemaPath }): DmmfDatamodel {
  const prismaSchema = "text" in schema ? schema.text : readFileSync(schema.path, "utf8");
  const dmmf = JSON.parse(wasmGetDmmf()(JSON.stringify({ prismaSchema, noColor: true }))) as { datamodel: DmmfDatamodel };
  return dmmf.datamodel;
}

const unsupported = (what: string): Error =>
  new Error(`${what} is not mapped by test/helpers/schema-compare.ts yet: extend describePrismaSchema with the PostgreSQL type/default Prisma uses for it`);

/** The PostgreSQL element type `prisma migrate` creates for a scalar field (format_type spelling). */
function expectedType(model: string, field: DmmfField, enumDbNames: Map<string, string>): string {
  const where = `${model}.${field.name} (${field.type}${field.nativeType ? ` @db.${field.nativeType[0]}` : ""})`;
  if (field.kind === "enum") {
    const name = enumDbNames.get(field.type);
    if (name === undefined) throw new Error(`${where}: unknown enum ${field.type}`);
    return `enum ${name}`;
  }
  if (field.kind !== "scalar") throw unsupported(`field kind ${field.kind} of ${where}`);
  const [native, args = []] = field.nativeType ?? [undefined, []];
  const precision = (fallback: string | null, name: string, suffix = ""): string => {
    const p = args[0] ?? fallback;
    return p === null ? `${name}${suffix}` : `${name}(${p})${suffix}`;
  };
  switch (field.type) {
    case "String":
      switch (native) {
        case undefined:
        case "Text":
          return "text";
        case "Uuid":
          return "uuid";
        case "VarChar":
          return precision(null, "character varying");
        case "Char":
          return precision("1", "character");
        case "Citext":
          return "citext";
        case "Inet":
          return "inet";
        case "Xml":
          return "xml";
        case "Bit":
          return precision("1", "bit");
        case "VarBit":
          return precision(null, "bit varying");
      }
      break;
    case "Int":
      if (native === undefined || native === "Integer") return "integer";
      if (native === "SmallInt") return "smallint";
      if (native === "Oid") return "oid";
      break;
    case "BigInt":
      if (native === undefined || native === "BigInt") return "bigint";
      break;
    case "Float":
      if (native === undefined || native === "DoublePrecision") return "double precision";
      if (native === "Real") return "real";
      break;
    case "Decimal":
      if (native === undefined) return "numeric(65,30)";
      if (native === "Decimal") return args.length === 0 ? "numeric" : `numeric(${args.join(",")})`;
      if (native === "Money") return "money";
      break;
    case "Boolean":
      if (native === undefined || native === "Boolean") return "boolean";
      break;
    case "DateTime":
      switch (native) {
        case undefined:
          return "timestamp(3) without time zone";
        case "Timestamp":
          return precision(null, "timestamp", " without time zone");
        case "Timestamptz":
          return precision(null, "timestamp", " with time zone");
        case "Date":
          return "date";
        case "Time":
          return precision(null, "time", " without time zone");
        case "Timetz":
          return precision(null, "time", " with time zone");
      }
      break;
    case "Json":
      if (native === undefined || native === "JsonB") return "jsonb";
      if (native === "Json") return "json";
      break;
    case "Bytes":
      if (native === undefined || native === "ByteA") return "bytea";
      break;
  }
  throw unsupported(`the type of ${where}`);
}

const quoteLiteral = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/** The default `prisma migrate` puts on the column, normalised like normaliseDefault() below. */
function expectedDefault(model: string, field: DmmfField, enums: Map<string, DmmfEnum>): string | null {
  if (!field.hasDefaultValue || field.isUpdatedAt) return null;
  const where = `the default of ${model}.${field.name}`;
  const value = field.default;
  if (typeof value === "object" && value !== null && !Array.isArray(value) && "name" in value) {
    const fn = value as { name: string; args: unknown[] };
    switch (fn.name) {
      case "now":
        return "CURRENT_TIMESTAMP";
      case "autoincrement":
        return "autoincrement()";
      case "uuid":
      case "cuid":
      case "nanoid":
      case "ulid":
        return null; // generated by Prisma Client, no database default
      case "dbgenerated":
        return typeof fn.args[0] === "string" ? fn.args[0] : null;
    }
    throw unsupported(`${where} (${fn.name}())`);
  }
  if (field.isList) throw unsupported(`${where} (a list default)`);
  if (field.kind === "enum" && typeof value === "string") {
    const e = enums.get(field.type);
    const dbValue = e?.values.find((v) => v.name === value)?.dbName ?? value;
    return `${quoteLiteral(dbValue)}::${e?.dbName ?? field.type}`;
  }
  if (typeof value === "boolean") return String(value);
  if ((field.type === "Int" || field.type === "BigInt") && typeof value === "number" && Number.isInteger(value) && value >= 0) return String(value);
  if (field.type === "String" && typeof value === "string" && (field.nativeType == null || field.nativeType[0] === "Text")) {
    return `${quoteLiteral(value)}::text`;
  }
  throw unsupported(`${where} (${JSON.stringify(value)} for ${field.type})`);
}

const referentialActions: Record<string, ReferentialAction> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

/** Prisma's default constraint/index names (`ConstraintNames` in prisma-engines), trimmed to PostgreSQL's 63 bytes. */
function defaultName(table: string, columns: string[], suffix: string): string {
  const base = [table, ...columns].join("_");
  return base.slice(0, 63 - suffix.length) + suffix;
}

/** What `prisma migrate` would create in PostgreSQL for this data model. */
export function describePrismaSchema(datamodel: DmmfDatamodel): SchemaDescription {
  const enums = new Map(datamodel.enums.map((e) => [e.name, e]));
  const enumDbNames = new Map(datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const tableOf = (model: DmmfModel): string => model.dbName ?? model.name;
  const models = new Map(datamodel.models.map((m) => [m.name, m]));
  const columnOf = (model: DmmfModel, fieldName: string): string => {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field) throw new Error(`DMMF: ${model.name} has no field ${fieldName}`);
    return field.dbName ?? field.name;
  };

  const tables = datamodel.models.map((model): TableDescription => {
    const table = tableOf(model);
    const columns = model.fields
      .filter((f) => f.kind !== "object")
      .map(
        (field): ColumnDescription => ({
          name: field.dbName ?? field.name,
          type: expectedType(model.name, field, enumDbNames),
          isArray: field.isList,
          // Prisma creates scalar lists without NOT NULL (the DMMF marks them required: never null in the client).
          nullable: field.isList || !field.isRequired,
          default: expectedDefault(model.name, field, enums),
        }),
      );
    const indexesOf = (type: DmmfIndex["type"], suffix: string): IndexDescription[] =>
      datamodel.indexes
        .filter((index) => index.model === model.name && index.type === type)
        .map((index) => {
          const names = index.fields.map((f) => columnOf(model, f.name));
          return {
            // Prisma names a primary key `<table>_pkey`, other indexes `<table>_<columns>_key|_idx`.
            name: index.dbName ?? defaultName(table, type === "id" ? [] : names, suffix),
            columns: index.fields.map((f, i) => `${names[i]}${f.sortOrder === "desc" ? " DESC" : ""}`),
            method: (index.algorithm ?? "BTree").toLowerCase(),
            predicate: null,
          };
        });
    for (const index of datamodel.indexes) {
      if (index.model === model.name && index.type === "fulltext") throw unsupported(`the fulltext index on ${model.name}`);
    }
    const foreignKeys = model.fields
      .filter((f) => f.kind === "object" && (f.relationFromFields?.length ?? 0) > 0)
      .map((field): ForeignKeyDescription => {
        const target = models.get(field.type);
        if (!target) throw new Error(`DMMF: ${model.name}.${field.name} relates to unknown model ${field.type}`);
        const columns = (field.relationFromFields ?? []).map((name) => columnOf(model, name));
        const onDelete = field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull");
        const onUpdate = field.relationOnUpdate ?? "Cascade";
        const action = (name: string): ReferentialAction => {
          const a = referentialActions[name];
          if (!a) throw unsupported(`referential action ${name} on ${model.name}.${field.name}`);
          return a;
        };
        return {
          name: defaultName(table, columns, "_fkey"),
          columns,
          referencedTable: tableOf(target),
          referencedColumns: (field.relationToFields ?? []).map((name) => columnOf(target, name)),
          onDelete: action(onDelete),
          onUpdate: action(onUpdate),
        };
      });
    return {
      name: table,
      columns,
      primaryKey: indexesOf("id", "_pkey")[0] ?? null,
      uniques: indexesOf("unique", "_key"),
      indexes: indexesOf("normal", "_idx"),
      foreignKeys,
    };
  });

  return {
    tables,
    enums: datamodel.enums.map((e) => ({ name: e.dbName ?? e.name, values: e.values.map((v) => v.dbName ?? v.name) })),
  };
}

// ---------------------------------------------------------------------------------------------
// What the database has (information_schema / pg_catalog of the current schema)
// ---------------------------------------------------------------------------------------------

/** Tables that belong to the tooling, not to the data model. */
export const ignoredTables = new Set(["_prisma_migrations"]);

interface ColumnRow {
  table_name: string;
  column_name: string;
  is_nullable: string;
  data_type: string;
  udt_name: string;
  column_default: string | null;
  is_identity: string;
  formatted_type: string;
  typtype: string;
  element_typtype: string | null;
  element_typname: string | null;
}

interface IndexRow {
  table_name: string;
  index_name: string;
  is_primary: boolean;
  is_unique: boolean;
  method: string;
  predicate: string | null;
  columns: string[];
}

interface ForeignKeyRow {
  name: string;
  table_name: string;
  referenced_table: string;
  columns: string[];
  referenced_columns: string[];
  on_delete: string;
  on_update: string;
}

const actionCodes: Record<string, ReferentialAction> = { a: "NO ACTION", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

function actionOf(code: string, constraint: string): ReferentialAction {
  const action = actionCodes[code];
  if (!action) throw new Error(`foreign key ${constraint}: unknown referential action code ${JSON.stringify(code)}`);
  return action;
}

/** Normalises a column default as PostgreSQL prints it to the spelling expectedDefault() uses. */
function normaliseDefault(row: ColumnRow): string | null {
  if (row.is_identity === "YES") return "GENERATED AS IDENTITY";
  const value = row.column_default;
  if (value === null) return null;
  if (/^nextval\('.*'::regclass\)$/.test(value)) return "autoincrement()";
  if (value === "now()") return "CURRENT_TIMESTAMP";
  return value;
}

function actualType(row: ColumnRow): { type: string; isArray: boolean } {
  if (row.data_type === "ARRAY") {
    const element = row.element_typtype === "e" && row.element_typname !== null ? `enum ${row.element_typname}` : row.formatted_type.replace(/\[\]$/, "");
    return { type: element, isArray: true };
  }
  if (row.data_type === "USER-DEFINED" && row.typtype === "e") return { type: `enum ${row.udt_name}`, isArray: false };
  return { type: row.formatted_type, isArray: false };
}

/** PostgreSQL returns text[] as an array; be lenient in case a driver hands back the literal. */
function textArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string" && value.startsWith("{") && value.endsWith("}")) {
    const inner = value.slice(1, -1);
    return inner === "" ? [] : inner.split(",").map((s) => s.replace(/^"(.*)"$/, "$1"));
  }
  throw new Error(`expected a text[] from the catalog, got ${JSON.stringify(value)}`);
}

/** Reads tables, columns, keys, indexes, foreign keys and enums of the session's current schema. */
export async function introspectDatabase(session: SqlSession): Promise<SchemaDescription> {
  const tableRows = await session.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
      ORDER BY table_name`,
  );
  const columnRows = await session.query<ColumnRow>(
    `SELECT c.table_name, c.column_name, c.is_nullable, c.data_type, c.udt_name, c.column_default, c.is_identity,
            format_type(a.atttypid, a.atttypmod) AS formatted_type,
            t.typtype::text AS typtype, et.typtype::text AS element_typtype, et.typname::text AS element_typname
       FROM information_schema.columns c
       JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema
       JOIN pg_catalog.pg_class cl ON cl.relnamespace = n.oid AND cl.relname = c.table_name
       JOIN pg_catalog.pg_attribute a ON a.attrelid = cl.oid AND a.attname = c.column_name
       JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
      WHERE c.table_schema = current_schema()
      ORDER BY c.table_name, c.ordinal_position`,
  );
  const indexRows = await session.query<IndexRow>(
    `SELECT tc.relname::text AS table_name, ic.relname::text AS index_name,
            ix.indisprimary AS is_primary, ix.indisunique AS is_unique, am.amname::text AS method,
            pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            ARRAY(
              SELECT COALESCE(a.attname::text, '<expression>')
                     || CASE WHEN (ix.indoption[(k.ord - 1)::int] & 1) = 1 THEN ' DESC' ELSE '' END
                FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum AND k.attnum <> 0
               WHERE k.ord <= ix.indnkeyatts
               ORDER BY k.ord
            )::text[] AS columns
       FROM pg_catalog.pg_index ix
       JOIN pg_catalog.pg_class ic ON ic.oid = ix.indexrelid
       JOIN pg_catalog.pg_class tc ON tc.oid = ix.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
       JOIN pg_catalog.pg_am am ON am.oid = ic.relam
      WHERE n.nspname = current_schema() AND tc.relkind IN ('r', 'p')
      ORDER BY 1, 2`,
  );
  const foreignKeyRows = await session.query<ForeignKeyRow>(
    `SELECT con.conname::text AS name, tc.relname::text AS table_name, rc.relname::text AS referenced_table,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS referenced_columns,
            con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
       FROM pg_catalog.pg_constraint con
       JOIN pg_catalog.pg_class tc ON tc.oid = con.conrelid
       JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = tc.relnamespace
      WHERE con.contype = 'f' AND n.nspname = current_schema()
      ORDER BY 2, 1`,
  );
  const enumRows = await session.query<{ name: string; labels: unknown }>(
    `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_catalog.pg_type t
       JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
       JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = current_schema()
      GROUP BY t.typname
      ORDER BY t.typname`,
  );

  const tables = tableRows
    .filter((row) => !ignoredTables.has(row.table_name))
    .map((row): TableDescription => {
      const table = row.table_name;
      const indexes = indexRows
        .filter((r) => r.table_name === table)
        .map((r) => ({
          row: r,
          index: { name: r.index_name, columns: textArray(r.columns), method: r.method, predicate: r.predicate } satisfies IndexDescription,
        }));
      return {
        name: table,
        columns: columnRows
          .filter((c) => c.table_name === table)
          .map((c) => ({ name: c.column_name, ...actualType(c), nullable: c.is_nullable === "YES", default: normaliseDefault(c) })),
        primaryKey: indexes.find((i) => i.row.is_primary)?.index ?? null,
        uniques: indexes.filter((i) => i.row.is_unique && !i.row.is_primary).map((i) => i.index),
        indexes: indexes.filter((i) => !i.row.is_unique).map((i) => i.index),
        foreignKeys: foreignKeyRows
          .filter((fk) => fk.table_name === table)
          .map((fk) => ({
            name: fk.name,
            columns: textArray(fk.columns),
            referencedTable: fk.referenced_table,
            referencedColumns: textArray(fk.referenced_columns),
            onDelete: actionOf(fk.on_delete, fk.name),
            onUpdate: actionOf(fk.on_update, fk.name),
          })),
      };
    });

  return { tables, enums: enumRows.map((row) => ({ name: row.name, values: textArray(row.labels) })) };
}
