// Streaming codecs of the mail layer: byte buffers in, byte buffers or bounded text out.

export { TextBuffer } from "./text-buffer.ts";
export {
  CHARSET_LATIN1, CHARSET_UNKNOWN, CHARSET_US_ASCII, CHARSET_UTF8, CHARSET_WINDOWS_1252, CharsetDecoder, charsetOf,
  singleByteCodePoint,
} from "./charset.ts";
export {
  type CodePointSink, Utf8Decoder, decodeUtf8, encodeCodePoint, encodeUtf8Into, isAscii, isValidUtf8, readCodePoint,
  utf8Length, utf8SequenceLength,
} from "./utf8.ts";
export { Utf8HexStream, hexEncodeInto, hexOfUtf8 } from "./hex.ts";
export { Base64Encoder, base64ExpandInPlace, base64OfBytes } from "./base64.ts";
export { Base64Decoder } from "./base64-decode.ts";
export { MAX_HELD_WHITESPACE, QuotedPrintableDecoder } from "./quoted-printable.ts";
export { DotUnstuffer, type DotUnstufferOptions } from "./dot-unstuff.ts";
export { MAX_ENCODED_WORD, decodeHeaderValue, encodeHeaderWord } from "./rfc2047.ts";
export { parseAddress, parseAddressList, type ParsedAddress } from "./address.ts";
export { contentParameter, dispositionType, parseContentType, type ContentType } from "./content-type.ts";
export {
  DEFAULT_HEADER_FIELDS, DEFAULT_MAX_FIELD_BYTES, HeaderReader, type HeaderReaderOptions,
} from "./header-reader.ts";
export {
  BodyReader, DEFAULT_MAX_BODY_CHARS, MAX_BOUNDARY, MAX_DEPTH, type BodyReaderOptions,
} from "./body-reader.ts";
export { MessageReader, type MessageReaderOptions } from "./message-reader.ts";
export { MAX_DELIMITER_PADDING, MAX_PART_BOUNDARY } from "./delimiters.ts";
export { MimePart, type PartHandler } from "./mime-part.ts";
export { MAX_PART_DEPTH, PartWalker, type PartWalkerOptions } from "./part-walker.ts";
