// Eckart dashboard: numbers as the page shows them (3 significant digits, percentages, 10⁻³ ticks).

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1).replace("e+", "e");
  return String(Number(v.toPrecision(digits)));
}

export function fmtInt(v) {
  return Number(v).toLocaleString("en-US");
}

export function pct(v, digits = 0) {
  return `${(v * 100).toFixed(digits)} %`;
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

/** 10⁻³, 2·10⁻³ … for log-axis ticks; plain numbers between 0.01 and 1000. */
export function fmtLogTick(v) {
  const exponent = Math.floor(Math.log10(v) + 1e-9);
  const mantissa = Math.round(v / 10 ** exponent);
  if (exponent >= -2 && exponent <= 3) return fmt(v);
  const power = "10" + String(exponent).split("").map((c) => SUPERSCRIPT[c]).join("");
  return mantissa === 1 ? power : `${mantissa}·${power}`;
}
