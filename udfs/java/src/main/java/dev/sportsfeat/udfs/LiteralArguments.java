package dev.sportsfeat.udfs;

import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.flink.table.functions.FunctionDefinition;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.ArgumentCount;
import org.apache.flink.table.types.inference.ArgumentTypeStrategy;
import org.apache.flink.table.types.inference.CallContext;
import org.apache.flink.table.types.inference.InputTypeStrategies;
import org.apache.flink.table.types.inference.InputTypeStrategy;
import org.apache.flink.table.types.inference.Signature;
import org.apache.flink.table.types.inference.StaticArgument;
import org.apache.flink.table.types.inference.TypeInference;

/**
 * Planning-time checks of arguments that must be literals (sizes, fractions, half-lives): a bad
 * value fails the statement when it is planned instead of the job at its first record.
 *
 * <p>Replaces the static arguments of the reflectively extracted type inference with an
 * equivalent explicit sequence: with static arguments, Flink validates against a context in
 * which an argument that needs an implicit cast (an INT literal for a BIGINT parameter) is no
 * longer a literal.
 */
final class LiteralArguments implements InputTypeStrategy {
    /** One literal argument: its position, the Java class of its value and its valid range. */
    record Rule(int pos, String name, Class<?> type, Predicate<Object> valid, String expected) {
        static <T> Rule of(int pos, String name, Class<T> type, Predicate<T> valid, String expected) {
            return new Rule(pos, name, type, v -> valid.test(type.cast(v)), expected);
        }
    }

    private final InputTypeStrategy base;
    private final List<Rule> rules;

    private LiteralArguments(InputTypeStrategy base, List<Rule> rules) {
        this.base = base;
        this.rules = rules;
    }

    /** {@code inference} with its input strategy wrapped in the checks of {@code rules}. */
    static TypeInference require(TypeInference inference, Rule... rules) {
        List<StaticArgument> arguments = inference.getStaticArguments().orElseThrow();
        InputTypeStrategy typed =
                InputTypeStrategies.sequence(
                        arguments.stream().map(StaticArgument::getName).toList(),
                        arguments.stream()
                                .<ArgumentTypeStrategy>map(
                                        a -> InputTypeStrategies.explicit(
                                                a.getDataType().orElseThrow()))
                                .toList());
        return TypeInference.newBuilder()
                .inputTypeStrategy(new LiteralArguments(typed, List.of(rules)))
                .stateTypeStrategies(inference.getStateTypeStrategies())
                .outputTypeStrategy(inference.getOutputTypeStrategy())
                .build();
    }

    @Override
    public ArgumentCount getArgumentCount() {
        return base.getArgumentCount();
    }

    @Override
    public Optional<List<DataType>> inferInputTypes(CallContext call, boolean throwOnFailure) {
        for (Rule rule : literalsVisible(call) ? rules : List.<Rule>of()) {
            Optional<?> value =
                    call.isArgumentLiteral(rule.pos()) && !call.isArgumentNull(rule.pos())
                            ? call.getArgumentValue(rule.pos(), rule.type())
                            : Optional.empty();
            if (value.isEmpty() || !rule.valid().test(value.get())) {
                return call.fail(
                        throwOnFailure,
                        "%s: argument %s must be %s (a literal)",
                        call.getName(),
                        rule.name(),
                        rule.expected());
            }
        }
        return base.inferInputTypes(call, throwOnFailure);
    }

    /**
     * False when the planner re-infers a validated aggregate call from its physical plan, where
     * the arguments are fields of a projection and Calcite's binding cannot tell literals.
     */
    private static boolean literalsVisible(CallContext call) {
        try {
            call.isArgumentLiteral(0);
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public List<Signature> getExpectedSignatures(FunctionDefinition definition) {
        return base.getExpectedSignatures(definition);
    }
}
