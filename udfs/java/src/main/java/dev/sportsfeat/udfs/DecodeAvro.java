package dev.sportsfeat.udfs;

import dev.sportsfeat.udfs.LiteralArguments.Rule;
import dev.sportsfeat.udfs.avro.AvroDecoder;
import dev.sportsfeat.udfs.avro.AvroRowType;
import dev.sportsfeat.udfs.avro.DecodeError;
import dev.sportsfeat.udfs.avro.SchemaRegistry;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Arrays;
import java.util.Optional;
import org.apache.avro.Schema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.SourceReaderMetricGroup;
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
 * {@code DECODE_AVRO(value BYTES, reader_schema STRING literal, registry_url STRING literal) ->
 * ROW<_error STRING, _schema_id INT, <reader fields>> NOT NULL}: decodes a Confluent wire-format
 * Avro value with the writer schema from the registry at {@code registry_url} (the Confluent-API
 * base URL), resolved to the reader schema. The row type comes from the literal reader schema at
 * planning time ({@link AvroRowType}).
 *
 * <p>Never NULL: on failure every reader field is NULL, {@code _error} names the reason (see
 * {@link DecodeError}) and {@code _schema_id} is set once the header was read. A registry
 * outage or a wrong registry URL is not bad data: the call throws (see {@link SchemaRegistry}),
 * and the job restarts from its checkpoint.
 *
 * <p>The URL is an argument, not a job parameter: a source's event-time column runs in the
 * watermark generator, whose FunctionContext has no job parameters (it does have the source's
 * metric group). Every decode is counted once in {@code sportsfeat.records{kind=decode,
 * source=<reader record name>, detail=ok|<error>}}.
 */
public final class DecodeAvro extends ScalarFunction {
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
        boolean counted;
    }

    /** Null in a source's watermark generator. */
    private transient RecordCounters counters;
    private transient AvroDecoder decoder;
    private transient String memoKey;
    private transient Counter[] outcomes;

    @Override
    public void open(FunctionContext context) {
        MetricGroup metrics = context.getMetricGroup();
        // A source reader's group: this is the watermark generator (one per split, sharing this
        // instance). The source's projection decodes every row too, so it alone counts them:
        // once even when it runs in another thread, and no counter is registered twice.
        counters = metrics instanceof SourceReaderMetricGroup ? null : new RecordCounters(metrics);
    }

    public RowData eval(byte[] value, String readerSchema, String registryUrl) {
        if (decoder == null) {
            start(readerSchema, registryUrl); // literals: the same text on every call
        }
        LastDecode last = LAST.get();
        // memoKey is interned: equal keys are the same object for every instance.
        if (last.key != memoKey || !Arrays.equals(last.value, value)) {
            GenericRowData row = decoder.decode(value);
            // Safe to keep: Flink copies BYTES out of binary rows, and sources never reuse arrays.
            last.key = memoKey;
            last.value = value;
            last.row = row;
            last.counted = false;
        }
        if (outcomes != null && !last.counted) {
            DecodeError error = DecodeError.of(last.row);
            outcomes[error == null ? outcomes.length - 1 : error.ordinal()].inc();
            last.counted = true;
        }
        return last.row;
    }

    private void start(String readerSchema, String registryUrl) {
        Schema reader = new Schema.Parser().parse(readerSchema);
        SchemaRegistry registry = SchemaRegistry.of(registryUrl);
        decoder = new AvroDecoder(reader, registry);
        memoKey = (registry.url() + '\n' + readerSchema).intern();
        if (counters == null) {
            return;
        }
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
                                StaticArgument.scalar("reader_schema", DataTypes.STRING(), false),
                                StaticArgument.scalar("registry_url", DataTypes.STRING(), false))
                        .outputTypeStrategy(DecodeAvro::rowType)
                        .build();
        return LiteralArguments.require(
                signature,
                Rule.of(1, "reader_schema", String.class, s -> true, "an Avro record schema"),
                Rule.of(2, "registry_url", String.class, DecodeAvro::isHttpUrl, "an http(s) URL"));
    }

    private static boolean isHttpUrl(String url) {
        try {
            URI uri = new URI(url);
            return uri.getHost() != null
                    && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()));
        } catch (URISyntaxException e) {
            return false;
        }
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
