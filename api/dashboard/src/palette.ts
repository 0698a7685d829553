/**
 * Colours of the five classes: ColorBrewer's YlOrRd, 5 classes (Cynthia Brewer, colorbrewer2.org),
 * listed there as colour-blind safe: lightness falls steadily from class to class, so the order
 * reads in any form of colour vision and in greyscale. Missing and withheld values get patterns
 * (not a sixth colour) so they are never read as a low value.
 */
export const BAND_COLOURS = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'] as const;

/** Dark text on the light classes, white on the dark ones (contrast). */
export const BAND_TEXT = ['#222', '#222', '#222', '#fff', '#fff'] as const;

export const NO_DATA_FILL = 'url(#pattern-no-data)';
export const WITHHELD_FILL = 'url(#pattern-withheld)';
export const NO_DATA_SWATCH = '#d9d9d9';
export const WITHHELD_SWATCH = '#6b6b6b';

export const BAND_NAMES = ['very low', 'low', 'medium', 'high', 'very high'] as const;

export function bandIndex(label: string | null): number | null {
  if (label === null) return null;
  const i = (BAND_NAMES as readonly string[]).indexOf(label);
  return i < 0 ? null : i;
}
