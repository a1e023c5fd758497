package io.pgmigrate.autoconfigure;

import java.util.Locale;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches unless {@code pgmigrate.enabled} is {@code false}. Any value other than {@code true} or {@code false}
 * stops the start-up: a typo must not switch the guard off without a word.
 */
class OnGuardEnabledCondition extends SpringBootCondition {

    static final String PROPERTY = "pgmigrate.enabled";

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        String value = context.getEnvironment().getProperty(PROPERTY);
        if (value == null) {
            return ConditionOutcome.match(PROPERTY + " is not set: the guard is on by default");
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> ConditionOutcome.match(PROPERTY + " is true");
            case "false" -> ConditionOutcome.noMatch(PROPERTY + " is false");
            default -> throw new InvalidConfigurationPropertyValueException(PROPERTY, value,
                    "it must be true or false");
        };
    }
}
