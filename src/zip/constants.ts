/**
 * Zip record signatures, fixed sizes and markers (PKWARE APPNOTE 6.3).
 */

/** `PK\x03\x04`: local file header. */
export const ZIP_LOCAL_HEADER_SIGNATURE = 0x04034b50;
/** `PK\x01\x02`: central directory file header. */
export const ZIP_CENTRAL_HEADER_SIGNATURE = 0x02014b50;
/** `PK\x05\x06`: end of central directory record. */
export const ZIP_END_SIGNATURE = 0x06054b50;
/** `PK\x06\x06`: zip64 end of central directory record. */
export const ZIP64_END_SIGNATURE = 0x06064b50;
/** `PK\x06\x07`: zip64 end of central directory locator. */
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
/** `PK\x07\x08`: data descriptor. */
export const ZIP_DESCRIPTOR_SIGNATURE = 0x08074b50;

export const ZIP_LOCAL_HEADER_BYTES = 30;
export const ZIP_CENTRAL_HEADER_BYTES = 46;
export const ZIP_END_BYTES = 22;
export const ZIP64_END_BYTES = 56;
export const ZIP64_LOCATOR_BYTES = 20;
/** Longest EOCD comment, so the EOCD lies in the last 65535 + 22 bytes. */
export const ZIP_MAX_COMMENT_BYTES = 0xffff;

/** Extra field id of the zip64 extended information. */
export const ZIP64_EXTRA_ID = 0x0001;
/** Extra field id torch pads local headers with: the bytes `F`, `B` read as a little-endian u16. */
export const ZIP_PADDING_EXTRA_ID = 0x4246;

/** 32-bit fields hold this when the real value lives in the zip64 extra. */
export const ZIP32_MAX = 0xffffffff;
/** 16-bit count fields hold this when the real value lives in the zip64 end record. */
export const ZIP16_MAX = 0xffff;

/** General-purpose flag bits. */
export const ZIP_FLAG_ENCRYPTED = 0x0001;
export const ZIP_FLAG_DATA_DESCRIPTOR = 0x0008;
export const ZIP_FLAG_UTF8 = 0x0800;

export const ZIP_METHOD_STORE = 0;
export const ZIP_METHOD_DEFLATE = 8;

/**
 * Deflate cannot expand more than about 1032:1 (a 258-byte match costs at least two
 * bits), so a declared size beyond this ratio is a lie; refusing it avoids allocating
 * what a hostile header asks for.
 */
export const DEFLATE_MAX_RATIO = 1032;
