/**
 * The header record of a CSV file: the first record that is not a publisher's preamble line
 * (the World Bank writes `Data Source` and `Last Updated Date` above its header). Read before
 * the batch opens, so that the connector, and with it the batch's default grade, is known.
 */
import { readCsvBatches, type CsvRecord, type Delimiter } from './csv-file.ts';

export async function readHeaderRecord(
  path: string,
  delimiter: Delimiter,
  isPreamble: (fields: readonly string[]) => boolean,
): Promise<CsvRecord | undefined> {
  for await (const records of readCsvBatches(path, { delimiter })) {
    const header = records.find((record) => !isPreamble(record.fields));
    if (header) return header;
  }
  return undefined;
}
