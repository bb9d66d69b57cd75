package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.avro.AvroDecoder;
import dev.sportsfeat.udfs.avro.AvroRowType;
import dev.sportsfeat.udfs.avro.DecodeError;
import dev.sportsfeat.udfs.avro.SchemaRegistry;
import java.util.Arrays;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.CallContext;
import org.apache.flink.table.types.inference.StaticArgument;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * {@code DECODE_AVRO(value BYTES, reader_schema STRING literal) -> ROW<_error STRING,
 * _schema_id INT, <reader fields>> NOT NULL}: decodes a Confluent wire-format Avro value with
 * the writer schema from the registry, resolved to the reader schema. The row type comes from
 * the literal reader schema at planning time ({@link AvroRowType}).
 *
 * <p>Never NULL: on failure every reader field is NULL, {@code _error} names the reason (see
 * {@link DecodeError}) and {@code _schema_id} is set once the header was read. A registry
 * outage is not bad data: after {@code sportsfeat.registry.max-wait-ms} of retries the call
 * throws, and the job restarts from its checkpoint.
 *
 * <p>Job parameters: {@code sportsfeat.registry.url} (required, the Confluent-API base URL)
 * and {@code sportsfeat.registry.max-wait-ms} (default 60000). Every decode is counted in
 * {@code sportsfeat.records{kind=decode, source=<reader record name>, detail=ok|<error>}}.
 */
public final class DecodeAvro extends ScalarFunction {
    public static final String REGISTRY_URL = "sportsfeat.registry.url";
    public static final String MAX_WAIT_MS = "sportsfeat.registry.max-wait-ms";

    /**
     * The last decode on this thread. The event-time column and the projection of a source call
     * DECODE_AVRO on the same bytes from different function instances, one right after the
     * other in the same task thread: the second call returns the first one's row.
     */
    private static final ThreadLocal<LastDecode> LAST = ThreadLocal.withInitial(LastDecode::new);

    private static final class LastDecode {
        String key;
        byte[] value;
        GenericRowData row;
    }

    private transient SchemaRegistry registry;
    private transient RecordCounters counters;
    private transient AvroDecoder decoder;
    private transient String memoKey;
    private transient Counter[] outcomes;

    @Override
    public void open(FunctionContext context) {
        String url = context.getJobParameter(REGISTRY_URL, null);
        if (url == null || url.isBlank()) {
            throw new IllegalStateException(
                    "DECODE_AVRO needs the job parameter " + REGISTRY_URL
                            + " (the registry's Confluent-API base URL, e.g."
                            + " http://127.0.0.1:8080/apis/ccompat/v7): set it in"
                            + " pipeline.global-job-parameters");
        }
        long maxWaitMs = Long.parseLong(context.getJobParameter(MAX_WAIT_MS, "60000"));
        registry = new SchemaRegistry(url, maxWaitMs);
        counters = new RecordCounters(context.getMetricGroup());
    }

    public RowData eval(byte[] value, String readerSchema) {
        if (decoder == null) {
            start(readerSchema); // a literal: the same text on every call
        }
        LastDecode last = LAST.get();
        // memoKey is interned: equal keys are the same object for every instance.
        if (last.key == memoKey && Arrays.equals(last.value, value)) {
            return last.row;
        }
        GenericRowData row = decoder.decode(value);
        DecodeError error = DecodeError.of(row);
        outcomes[error == null ? outcomes.length - 1 : error.ordinal()].inc();
        // Safe to keep: Flink copies BYTES out of binary rows, and sources never reuse arrays.
        last.key = memoKey;
        last.value = value;
        last.row = row;
        return row;
    }

    private void start(String readerSchema) {
        Schema reader = new Schema.Parser().parse(readerSchema);
        decoder = new AvroDecoder(reader, registry);
        memoKey = (registry.url() + '\n' + readerSchema).intern();
        DecodeError[] errors = DecodeError.values();
        outcomes = new Counter[errors.length + 1];
        for (DecodeError error : errors) {
            outcomes[error.ordinal()] = counters.get("decode", reader.getFullName(), error.code());
        }
        outcomes[errors.length] = counters.get("decode", reader.getFullName(), "ok");
    }

    @Override
    public TypeInference getTypeInference(DataTypeFactory typeFactory) {
        TypeInference signature =
                TypeInference.newBuilder()
                        .staticArguments(
                                StaticArgument.scalar("value", DataTypes.BYTES(), false),
                                StaticArgument.scalar("reader_schema", DataTypes.STRING(), false))
                        .outputTypeStrategy(DecodeAvro::rowType)
                        .build();
        return LiteralArguments.require(
                signature,
                Rule.of(1, "reader_schema", String.class, s -> true, "an Avro record schema"));
    }

    private static Optional<DataType> rowType(CallContext call) {
        Optional<String> schema = call.getArgumentValue(1, String.class);
        if (schema.isEmpty()) {
            // Re-inference after validation sees no literals; the call site keeps its type.
            return call.getOutputDataType();
        }
        try {
            return Optional.of(AvroRowType.of(new Schema.Parser().parse(schema.get())));
        } catch (RuntimeException e) {
            throw new ValidationException("DECODE_AVRO: bad reader schema: " + e.getMessage(), e);
        }
    }
}
