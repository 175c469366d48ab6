// Byte counts for people, by the same rules as the core's ByteCount.format (the CLI's sizes):
// binary units (1 KiB = 1024 bytes); whole bytes below 1 KiB; then two decimals below 10, one
// below 100, none above; rounded half away from zero. Only the number follows the language
// (1.50 KiB, 1,50 КиБ); the unit's name comes from the caller (the catalogs' `unit.*`).

export const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `bytes` as `512 B`, `1.50 KiB`, `20.3 MiB`, `120 GiB`, in `locale`, with `unitName(unit)` as the unit. */
export function formatBytes(bytes, locale = 'en', unitName = (unit) => unit) {
  let value = Number(bytes);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  const scale = 10 ** digits;
  const rounded = (Math.sign(value) * Math.round(Math.abs(value) * scale)) / scale;
  const number = new Intl.NumberFormat(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(rounded);
  return `${number} ${unitName(BYTE_UNITS[unit])}`;
}

/** The first 8 characters of a backup id, as the page shows it beside dates and notes. */
export function shortId(id) {
  return String(id ?? '').slice(0, 8);
}
