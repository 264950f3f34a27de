/**
 * Parquet schema → table columns: which top-level fields hold numbers (physical type
 * plus logical / converted type), their readable type names, and their null counts from
 * the row groups' statistics.
 */
import type { FileMetaData, SchemaElement } from 'hyparquet';
import type { DType } from '../../core/dtype.js';
import type { TableColumn } from '../../model/table.js';

/** A top-level field: its schema element and, for a leaf, its index among the leaf columns. */
export interface ParquetTopField {
  readonly element: SchemaElement;
  /** Leaf column index (position in each row group's `columns`), for a primitive top-level field. */
  readonly leafIndex?: number;
  /** Leaf columns the field spans (groups span several). */
  readonly leafCount: number;
}

/** The dtype a primitive element reads as, or undefined; and its type name. */
export function parquetElementType(element: SchemaElement): { dtype?: DType; typeName: string } {
  const physical = element.type ?? 'GROUP';
  const logical = element.logical_type as { type?: string; bitWidth?: number; isSigned?: boolean; unit?: string; precision?: number; scale?: number } | undefined;
  const converted = element.converted_type;
  if (logical?.type === 'INTEGER' && (physical === 'INT32' || physical === 'INT64')) {
    const bits = logical.bitWidth ?? (physical === 'INT32' ? 32 : 64);
    const name = `${logical.isSigned === false ? 'uint' : 'int'}${bits}`;
    return { dtype: name as DType, typeName: name };
  }
  if (logical?.type === 'FLOAT16' && physical === 'FIXED_LEN_BYTE_ARRAY') return { dtype: 'float16', typeName: 'float16' };
  if (logical?.type) {
    const detail = logical.type === 'DECIMAL' ? `(${logical.precision}, ${logical.scale})` : logical.unit ? `[${String(logical.unit).toLowerCase()}]` : '';
    return { typeName: `${logical.type.toLowerCase()}${detail} (${physical})` };
  }
  const convertedInts: Record<string, DType> = { INT_8: 'int8', INT_16: 'int16', INT_32: 'int32', INT_64: 'int64', UINT_8: 'uint8', UINT_16: 'uint16', UINT_32: 'uint32', UINT_64: 'uint64' };
  if (converted && convertedInts[converted] && (physical === 'INT32' || physical === 'INT64')) return { dtype: convertedInts[converted], typeName: convertedInts[converted]! };
  if (converted) return { typeName: `${converted.toLowerCase()} (${physical})` };
  switch (physical) {
    case 'BOOLEAN': return { dtype: 'bool', typeName: 'boolean' };
    case 'INT32': return { dtype: 'int32', typeName: 'int32' };
    case 'INT64': return { dtype: 'int64', typeName: 'int64' };
    case 'FLOAT': return { dtype: 'float32', typeName: 'float' };
    case 'DOUBLE': return { dtype: 'float64', typeName: 'double' };
    case 'INT96': return { typeName: 'int96 (legacy timestamp)' };
    case 'BYTE_ARRAY': return { typeName: 'byte_array' };
    case 'FIXED_LEN_BYTE_ARRAY': return { typeName: `fixed_len_byte_array(${element.type_length ?? '?'})` };
    default: return { typeName: String(physical).toLowerCase() };
  }
}

/** The top-level fields of a file's schema (the flat element list walked by `num_children`). */
export function parquetTopFields(metadata: FileMetaData): ParquetTopField[] {
  const elements = metadata.schema;
  const root = elements[0];
  const fields: ParquetTopField[] = [];
  let at = 1;
  let leaf = 0;
  // Each subtree's size in elements and leaves, iteratively bounded by the element count.
  const span = (start: number): { elements: number; leaves: number } => {
    let pending = 1;
    let index = start;
    let leaves = 0;
    while (pending > 0) {
      if (index >= elements.length) throw new Error(`schema element ${start} has more children than the schema holds`);
      const children = elements[index]!.num_children ?? 0;
      if (children === 0) leaves++;
      pending += children - 1;
      index++;
    }
    return { elements: index - start, leaves };
  };
  for (let child = 0; child < (root?.num_children ?? 0); child++) {
    const element = elements[at]!;
    if (!element) throw new Error('schema ends before its root\'s children');
    const size = span(at);
    fields.push({ element, leafCount: size.leaves, ...((element.num_children ?? 0) === 0 ? { leafIndex: leaf } : {}) });
    leaf += size.leaves;
    at += size.elements;
  }
  return fields;
}

/** Table columns of the top-level fields, null counts summed from statistics (undefined when any is missing). */
export function parquetTableColumns(metadata: FileMetaData, fields: readonly ParquetTopField[]): TableColumn[] {
  return fields.map((field) => {
    const { element } = field;
    const name = element.name;
    if (field.leafIndex === undefined) {
      const kind = element.converted_type === 'LIST' || (element.logical_type as { type?: string } | undefined)?.type === 'LIST' ? 'list' : element.converted_type === 'MAP' ? 'map' : 'group';
      return { name, typeName: kind, nullCount: undefined, cellShape: [] };
    }
    if (element.repetition_type === 'REPEATED') return { name, typeName: `repeated ${parquetElementType(element).typeName}`, nullCount: undefined, cellShape: [] };
    const { dtype, typeName } = parquetElementType(element);
    let nullCount: number | undefined = element.repetition_type === 'REQUIRED' ? 0 : 0;
    if (element.repetition_type !== 'REQUIRED') {
      for (const group of metadata.row_groups) {
        const stats = group.columns[field.leafIndex]?.meta_data?.statistics;
        const count = stats?.null_count;
        if (count === undefined || count === null) { nullCount = undefined; break; }
        nullCount = (nullCount ?? 0) + Number(count);
      }
    }
    const range = dtype ? parquetColumnRange(metadata, field.leafIndex, dtype) : undefined;
    return { name, typeName, nullCount, cellShape: [], ...(dtype ? { dtype } : {}), ...(range ?? {}) };
  });
}

/**
 * A numeric column's min and max over every row group's footer statistics, or undefined
 * when a non-empty row group has none. `min_value`/`max_value` are used, or the
 * deprecated `min`/`max` for signed types only (old writers ordered those as signed).
 */
export function parquetColumnRange(metadata: FileMetaData, leafIndex: number, dtype: DType): { min: number | bigint; max: number | bigint } | undefined {
  const unsigned = dtype.startsWith('uint');
  const plain = (value: unknown): number | bigint | undefined => {
    if (typeof value === 'boolean') return value ? 1 : 0;
    if (typeof value === 'bigint') return dtype === 'uint64' ? BigInt.asUintN(64, value) : value;
    if (typeof value === 'number' && !Number.isNaN(value)) return dtype === 'uint32' && value < 0 ? value >>> 0 : value;
    return undefined;
  };
  let min: number | bigint | undefined;
  let max: number | bigint | undefined;
  for (const group of metadata.row_groups) {
    if (Number(group.num_rows) === 0) continue;
    const stats = group.columns[leafIndex]?.meta_data?.statistics;
    const low = plain(stats?.min_value ?? (unsigned ? undefined : stats?.min));
    const high = plain(stats?.max_value ?? (unsigned ? undefined : stats?.max));
    if (low === undefined || high === undefined) return undefined;
    if (min === undefined || low < min) min = low;
    if (max === undefined || high > max) max = high;
  }
  return min === undefined || max === undefined ? undefined : { min, max };
}
