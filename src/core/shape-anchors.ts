/**
 * Keeps one small instance of each hot parsing class alive for the process's life, so
 * that V8 keeps that class's object shape, and the optimized code built for it, across
 * reads.
 *
 * Why: V8 gives an object its shape (its "map") by transitions from the class's initial
 * map, one per field the constructor adds, and holds each transition weakly. Once every
 * instance of a class has died (a read ended and a full collection ran), the shape is
 * collected, and every optimized function that was specialized for it is thrown away
 * ("marking dependent code … for deoptimization, reason: weak objects" in
 * `node --trace-deopt`). The next read then runs those functions unoptimized until V8
 * optimizes them again. One live instance of a shape keeps it.
 *
 * The anchor has the hot instances' shape as long as it sets the same fields in the same
 * order, with the same kinds of values: a field that ever holds a double where the anchor
 * holds a small integer moves every new instance to another shape (the anchor's is then
 * "deprecated" and holds nothing). `test/shape-anchors.test.ts` reads files and checks
 * that an instance made afterwards still has its anchor's shape.
 *
 * Measured (Parquet, pyarrow's 1M × 32 float32 bench table read stacked in a fresh
 * process, the second read after `gc()`, as the bench's own-process row): 11–15 of its
 * functions deoptimized as "weak objects" without the anchors, none with them; the read
 * 376 → 327 ms (medians of 12, alternating). See bench/README.md, session 33.
 * An anchor holds no read's buffers: only the empty ones it was made with.
 */

/** One anchor: the instance kept, and how it was made (to make another for the test). */
export interface ShapeAnchor {
  readonly instance: object;
  readonly make: () => object;
}

const anchors: ShapeAnchor[] = [];

/** Keeps an instance `make` answers alive for the process's life (see the module comment). */
export function anchorShape(make: () => object): void {
  anchors.push({ instance: make(), make });
}

/** The anchors kept so far (those of the modules loaded). */
export function shapeAnchors(): readonly ShapeAnchor[] {
  return anchors;
}
