package testfn;

import java.util.LinkedHashMap;
import java.util.Map;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;

public class ContextEcho implements RequestHandler<Object, Map<String, String>> {
    @Override
    public Map<String, String> handleRequest(Object input, Context context) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("custom", context.getClientContext() == null ? null : context.getClientContext().getCustom().get("k"));
        m.put("identity", context.getIdentity() == null ? null
                : context.getIdentity().getIdentityId() + "/" + context.getIdentity().getIdentityPoolId());
        return m;
    }
}
