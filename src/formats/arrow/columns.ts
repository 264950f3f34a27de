/**
 * From an Arrow schema to table columns: where each top-level field's field nodes and
 * buffers sit in a record batch (a pre-order walk counting what each type owns), and
 * which fields read as numbers (integers, floats, booleans, fixed-size lists of them,
 * the `arrow.fixed_shape_tensor` extension).
 */
import type { DType } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import type { TableColumn } from '../../model/table.js';
import { ARROW_TYPE, type ArrowField, type ArrowRecordBatchHeader } from './types.js';

const fail = errorFactory('arrow');

/** Where a top-level field starts in a batch's nodes and buffers, and what it reads as. */
export interface ArrowColumnLayout {
  readonly field: ArrowField;
  readonly node: number;
  readonly buffer: number;
  /** For a numeric column: the leaf's node and buffers (validity, values), cell shape, dtype. */
  readonly numeric?: { readonly dtype: DType; readonly cellShape: readonly number[]; readonly leafNode: number; readonly leafBuffer: number };
}

/** Buffers a field owns itself (children not counted); `variadic` feeds view types. */
function ownBuffers(field: ArrowField, version: number, variadic: { next(): number }): number {
  if (field.dictionaryIndex !== undefined) return 2;
  switch (field.typeId) {
    case ARROW_TYPE.Null: return 0;
    case ARROW_TYPE.Binary: case ARROW_TYPE.Utf8: case ARROW_TYPE.LargeBinary: case ARROW_TYPE.LargeUtf8: return 3;
    case ARROW_TYPE.BinaryView: case ARROW_TYPE.Utf8View: return 2 + variadic.next();
    case ARROW_TYPE.List: case ARROW_TYPE.LargeList: case ARROW_TYPE.Map: return 2;
    case ARROW_TYPE.ListView: case ARROW_TYPE.LargeListView: return 3;
    case ARROW_TYPE.FixedSizeList: case ARROW_TYPE.Struct_: return 1;
    // Before metadata V5 a union had a validity bitmap too.
    case ARROW_TYPE.Union: return (field.unionMode === 1 ? 2 : 1) + (version < 4 ? 1 : 0);
    case ARROW_TYPE.RunEndEncoded: return 0;
    default: return 2;
  }
}

/**
 * The node and buffer positions of every top-level field in a batch with these
 * variadic buffer counts, checked against the batch's node and buffer lists.
 */
export function arrowColumnLayouts(fields: readonly ArrowField[], version: number, batch: Pick<ArrowRecordBatchHeader, 'nodes' | 'buffers' | 'variadicBufferCounts'>, schemaOnly = false): ArrowColumnLayout[] {
  let node = 0;
  let buffer = 0;
  let variadicIndex = 0;
  const variadic = {
    next: () => {
      const count = batch.variadicBufferCounts[variadicIndex++];
      if (schemaOnly) return count ?? 0;
      if (count === undefined || count < 0) fail('INVALID_HEADER', `arrow: record batch lacks the variadic buffer count of view field ${variadicIndex}`);
      return count;
    },
  };
  const walk = (field: ArrowField): void => {
    node += 1;
    buffer += ownBuffers(field, version, variadic);
    // A dictionary-encoded field's children belong to its dictionary batch.
    if (field.dictionaryIndex === undefined) for (const child of field.children) walk(child);
  };
  const layouts = fields.map((field) => {
    const start = { node, buffer };
    walk(field);
    return { field, ...start, ...numericOf(field, start.node, start.buffer) };
  });
  if (schemaOnly) return layouts;
  if (node !== batch.nodes.length) fail('INVALID_HEADER', `arrow: the schema implies ${node} field nodes per record batch, the batch has ${batch.nodes.length}`);
  if (buffer !== batch.buffers.length) fail('INVALID_HEADER', `arrow: the schema implies ${buffer} buffers per record batch, the batch has ${batch.buffers.length}`);
  return layouts;
}

/** The cell shape the `arrow.fixed_shape_tensor` extension declares, when it matches the list size. */
function fixedShapeTensorShape(field: ArrowField, listSize: number): number[] | undefined {
  if (field.metadata['ARROW:extension:name'] !== 'arrow.fixed_shape_tensor') return undefined;
  try {
    const parsed = JSON.parse(field.metadata['ARROW:extension:metadata'] ?? '{}') as { shape?: unknown; permutation?: unknown };
    const shape = parsed.shape;
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) return undefined;
    const permutation = parsed.permutation;
    // A permuted layout: keep the flat list (the cells are not in the declared shape's C order).
    if (permutation !== undefined && permutation !== null && !(Array.isArray(permutation) && permutation.every((axis, i) => axis === i))) return undefined;
    return shape.reduce((a: number, b: number) => a * b, 1) === listSize ? shape as number[] : undefined;
  } catch {
    return undefined;
  }
}

function numericOf(field: ArrowField, node: number, buffer: number): Pick<ArrowColumnLayout, 'numeric'> {
  if (field.dictionaryIndex !== undefined) return {};
  if (field.dtype && (field.typeId === ARROW_TYPE.Int || field.typeId === ARROW_TYPE.FloatingPoint || field.typeId === ARROW_TYPE.Bool)) {
    return { numeric: { dtype: field.dtype, cellShape: [], leafNode: node, leafBuffer: buffer } };
  }
  if (field.typeId !== ARROW_TYPE.FixedSizeList) return {};
  // Nested fixed-size lists of a numeric leaf: one buffer (validity) and one node per level.
  const cellShape: number[] = [];
  let level: ArrowField = field;
  let depth = 0;
  while (level.typeId === ARROW_TYPE.FixedSizeList && level.children.length === 1 && level.dictionaryIndex === undefined) {
    cellShape.push(level.listSize ?? 0);
    level = level.children[0]!;
    depth += 1;
  }
  if (!level.dtype || level.dictionaryIndex !== undefined || !(level.typeId === ARROW_TYPE.Int || level.typeId === ARROW_TYPE.FloatingPoint || level.typeId === ARROW_TYPE.Bool)) return {};
  const tensorShape = cellShape.length === 1 ? fixedShapeTensorShape(field, cellShape[0]!) : undefined;
  return { numeric: { dtype: level.dtype, cellShape: tensorShape ?? cellShape, leafNode: node + depth, leafBuffer: buffer + depth } };
}

/**
 * The table columns of a schema, with null counts summed over the batches. A list
 * column whose inner elements have nulls is not read as numbers (its type says why).
 */
export function arrowTableColumns(layouts: readonly ArrowColumnLayout[], batches: readonly ArrowRecordBatchHeader[], perBatchLayouts: readonly (readonly ArrowColumnLayout[])[]): TableColumn[] {
  return layouts.map((layout, index) => {
    const nullCount = perBatchLayouts.reduce((sum, batchLayouts, b) => sum + batches[b]!.nodes[batchLayouts[index]!.node]!.nullCount, 0);
    const numeric = layout.numeric;
    if (!numeric) return { name: layout.field.name, typeName: layout.field.typeName, nullCount, cellShape: [] };
    const innerNulls = perBatchLayouts.some((batchLayouts, b) => {
      const l = batchLayouts[index]!;
      for (let n = l.node + 1; n <= l.numeric!.leafNode; n++) if (batches[b]!.nodes[n]!.nullCount > 0) return true;
      return false;
    });
    if (innerNulls) return { name: layout.field.name, typeName: `${layout.field.typeName} with null elements`, nullCount, cellShape: [] };
    return { name: layout.field.name, dtype: numeric.dtype, typeName: layout.field.typeName, nullCount, cellShape: numeric.cellShape };
  });
}
