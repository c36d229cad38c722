"""Importing customer files: reading them, matching their columns, checking every row.

The package is plain domain code (no request, no database writes), in the order an import
goes through it:

- `reading`: `open_table(path)` opens an uploaded CSV (encoding and delimiter detected) or
  XLSX file as a stream of rows, `(row number, values)`, without loading it into memory;
  files that cannot be read raise `ImportFileError` with a translated message.
- `mapping`: the Kartoteka fields a column can map to, `detect_source(headers)` (Shopify,
  WooCommerce, HubSpot or a spreadsheet) and `suggest(headers)`, a JSON-serialisable
  `Mapping` from column heading to field.
- `rows`: `RowReader(headers, mapping, options)` turns one row into a normalised
  `CustomerRow` plus the `Problem`s found in it; `group_orders` turns the rows of a Shopify
  orders export (several rows per order) into `OrderRow`s, streaming.
- `values`: single values as exports and people write them (dates, amounts, yes/no, names,
  countries, languages); `contacts`: e-mail addresses and phone numbers, normalised as the
  staff forms do it but fast enough for a million rows.
- `problems`: `Problem`, one thing wrong with one row, stored as a code and parameters so a
  report can be shown later in any language.

The import job (duplicates, writing, consent events, undo) builds on these.
"""
