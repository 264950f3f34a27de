/**
 * NumPack IO's constants: when a file counts as large, and how big streamed chunks are.
 */

/** Inputs above 1 GiB are converted in chunks (NumPack's `LARGE_FILE_THRESHOLD`). */
export const LARGE_FILE_THRESHOLD = 1_073_741_824;

/** Target bytes per streamed chunk, 100 MiB (NumPack's `DEFAULT_CHUNK_SIZE`). */
export const DEFAULT_CHUNK_SIZE = 104_857_600;

/** Rows per batch when nothing better is known (NumPack's `DEFAULT_BATCH_ROWS`). */
export const DEFAULT_BATCH_ROWS = 100_000;

/** Most rows {@link estimateChunkRows} ever suggests (NumPack caps at one million). */
export const MAX_CHUNK_ROWS = 1_000_000;
