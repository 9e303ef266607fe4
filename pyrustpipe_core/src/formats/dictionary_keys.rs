//! Columns handed over as dictionary keys, their dictionary once: read as the dictionary arrays
//! they stand for.
//!
//! polars hands a `Categorical` or `Enum` column over so (its codes, and its categories), where
//! exporting it as an Arrow dictionary makes polars remap every row to the categories the column
//! uses: 7 ms for two columns of a million rows, more than checking them.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{UInt16Type, UInt32Type, UInt8Type};
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

/// The batches of `reader`, each column named in the dictionaries read as the dictionary array
/// of its keys (`UInt8`, `UInt16` or `UInt32`) into its dictionary's values.
pub struct KeyedDictionaries {
    reader: Box<dyn RecordBatchReader + Send>,
    schema: SchemaRef,
    /// Per column of the batches: the values its keys index, if it holds keys.
    values: Vec<Option<ArrayRef>>,
}

impl KeyedDictionaries {
    /// `dictionaries`: (column name, the values its keys index). An error names a column that
    /// is not there, or that does not hold unsigned integer keys.
    pub fn new(
        reader: Box<dyn RecordBatchReader + Send>,
        dictionaries: Vec<(String, ArrayRef)>,
    ) -> Result<Self, ArrowError> {
        let given = reader.schema();
        let mut fields: Vec<Field> = given.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut values = vec![None; fields.len()];
        for (name, dictionary) in dictionaries {
            let index = given.index_of(&name)?;
            let keys = fields[index].data_type().clone();
            if !matches!(keys, DataType::UInt8 | DataType::UInt16 | DataType::UInt32) {
                return Err(ArrowError::SchemaError(format!(
                    "column {name:?} holds {keys}, not the unsigned keys of a dictionary"
                )));
            }
            let dictionary_type =
                DataType::Dictionary(Box::new(keys), Box::new(dictionary.data_type().clone()));
            fields[index] = fields[index].clone().with_data_type(dictionary_type);
            values[index] = Some(dictionary);
        }
        let schema = Schema::new_with_metadata(fields, given.metadata().clone());
        Ok(KeyedDictionaries {
            reader,
            schema: Arc::new(schema),
            values,
        })
    }

    fn read(&self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        let columns = (batch.columns().iter().zip(&self.values))
            .map(|(column, values)| match values {
                Some(values) => dictionary_of(column, values),
                None => Ok(column.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

/// The one column of a stream's batches, as one array: a dictionary as it was handed over.
pub fn one_column(reader: impl RecordBatchReader) -> Result<ArrayRef, ArrowError> {
    let schema = reader.schema();
    if schema.fields().len() != 1 {
        return Err(ArrowError::SchemaError(format!(
            "a dictionary is one column, not {}",
            schema.fields().len()
        )));
    }
    let parts: Vec<ArrayRef> = reader
        .map(|batch| batch.map(|b| b.column(0).clone()))
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [one] => Ok(one.clone()),
        [] => Ok(arrow_array::new_empty_array(schema.field(0).data_type())),
        _ => {
            let parts: Vec<&dyn arrow_array::Array> = parts.iter().map(AsRef::as_ref).collect();
            arrow_select::concat::concat(&parts)
        }
    }
}

/// `keys` into `values` as a dictionary array; an error where a key is past the values' end.
fn dictionary_of(keys: &ArrayRef, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let values = values.clone();
    Ok(match keys.data_type() {
        DataType::UInt8 => Arc::new(DictionaryArray::<UInt8Type>::try_new(
            keys.as_primitive().clone(),
            values,
        )?),
        DataType::UInt16 => Arc::new(DictionaryArray::<UInt16Type>::try_new(
            keys.as_primitive().clone(),
            values,
        )?),
        DataType::UInt32 => Arc::new(DictionaryArray::<UInt32Type>::try_new(
            keys.as_primitive().clone(),
            values,
        )?),
        other => {
            return Err(ArrowError::SchemaError(format!(
                "dictionary keys must be unsigned integers, not {other}"
            )))
        }
    })
}

impl Iterator for KeyedDictionaries {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.reader.next()?;
        Some(batch.and_then(|batch| self.read(&batch)))
    }
}

impl RecordBatchReader for KeyedDictionaries {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, RecordBatchIterator, StringViewArray, UInt32Array, UInt8Array};

    use super::*;

    fn reader(columns: Vec<(&str, ArrayRef)>) -> Box<dyn RecordBatchReader + Send> {
        let batch = RecordBatch::try_from_iter(columns).expect("a batch");
        let schema = batch.schema();
        Box::new(RecordBatchIterator::new([Ok(batch)], schema))
    }

    fn categories() -> ArrayRef {
        Arc::new(StringViewArray::from(vec![
            Some("KES"),
            None,
            Some("a category longer than a view inlines"),
        ]))
    }

    /// Each row reads as the category its key names (a null key is a null row); the other
    /// columns as they were.
    #[test]
    fn keys_read_as_their_categories() {
        let keys: ArrayRef = Arc::new(UInt8Array::from(vec![Some(2), None, Some(0), Some(0)]));
        let other: ArrayRef = Arc::new(UInt32Array::from(vec![7, 8, 9, 10]));
        let given = reader(vec![("currency", keys), ("n", other.clone())]);
        let dictionaries = vec![("currency".to_owned(), categories())];
        let mut read = KeyedDictionaries::new(given, dictionaries).expect("keys");
        let batch = read.next().expect("a batch").expect("read");
        assert!(read.next().is_none());
        assert_eq!(batch.schema(), read.schema());
        let texts = arrow_cast::cast(batch.column(0), &DataType::Utf8View).expect("cast");
        let texts = texts.as_string_view();
        let rows: Vec<Option<&str>> = (0..texts.len())
            .map(|i| texts.is_valid(i).then(|| texts.value(i)))
            .collect();
        let long = "a category longer than a view inlines";
        assert_eq!(rows, [Some(long), None, Some("KES"), Some("KES")]);
        assert_eq!(batch.column(1), &other);
    }

    /// A dictionary handed over in batches is their values in order.
    #[test]
    fn a_dictionary_in_batches_is_one_column() {
        let part = |texts: Vec<&str>| {
            let texts: ArrayRef = Arc::new(StringViewArray::from(texts));
            RecordBatch::try_from_iter([("categories", texts)]).expect("a batch")
        };
        let batches = [part(vec!["KES", "UGX"]), part(vec![]), part(vec!["TZS"])];
        let schema = batches[0].schema();
        let values = one_column(RecordBatchIterator::new(batches.map(Ok), schema.clone()))
            .expect("one column");
        let values: Vec<&str> = values.as_string_view().iter().flatten().collect();
        assert_eq!(values, ["KES", "UGX", "TZS"]);
        let none = one_column(RecordBatchIterator::new([], schema)).expect("no batches");
        assert_eq!(none.len(), 0);
    }

    /// A key past the categories, a column that is not there and one that holds no keys are
    /// errors, not rows read wrong.
    #[test]
    fn keys_that_name_no_category_are_an_error() {
        let keys: ArrayRef = Arc::new(UInt32Array::from(vec![0, 3]));
        let dictionaries = vec![("currency".to_owned(), categories())];
        let given = reader(vec![("currency", keys.clone())]);
        let mut read = KeyedDictionaries::new(given, dictionaries.clone()).expect("keys");
        assert!(read.next().expect("a batch").is_err());

        let missing = reader(vec![("other", keys)]);
        assert!(KeyedDictionaries::new(missing, dictionaries.clone()).is_err());
        let texts: ArrayRef = Arc::new(StringViewArray::from(vec!["KES"]));
        let not_keys = reader(vec![("currency", texts)]);
        assert!(KeyedDictionaries::new(not_keys, dictionaries).is_err());
    }
}
