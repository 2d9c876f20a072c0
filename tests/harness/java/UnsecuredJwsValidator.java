// Client-side JWT validation (Kafka 4.1+, `sasl.oauthbearer.jwt.validator.class`) that accepts
// what the broker's unsecured validator accepts: an unsigned JWS (`alg: none`, empty signature).
//
// Kafka's own client validator (ClientJwtValidator) insists on three non-empty sections, i.e. a
// signed token, while the broker's OAuthBearerUnsecuredValidatorCallbackHandler insists on an
// empty signature; with this class a Java client fetches and refreshes tokens from the harness's
// token endpoint through Kafka's own OAuthBearerLoginCallbackHandler (KIP-768) and parses them
// with the very class the broker uses. Put it on the classpath with Java::with_classes_of.

import org.apache.kafka.common.security.oauthbearer.JwtValidator;
import org.apache.kafka.common.security.oauthbearer.JwtValidatorException;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerIllegalTokenException;
import org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredJws;

public class UnsecuredJwsValidator implements JwtValidator {
    @Override
    public OAuthBearerToken validate(String accessToken) throws JwtValidatorException {
        try {
            return new OAuthBearerUnsecuredJws(accessToken, "sub", "scope");
        } catch (OAuthBearerIllegalTokenException e) {
            throw new JwtValidatorException("unsecured JWS rejected: " + e.getMessage(), e);
        }
    }
}
