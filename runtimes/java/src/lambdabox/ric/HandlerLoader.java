package lambdabox.ric;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceLoader;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.CustomPojoSerializer;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import lambdabox.ric.json.Types;

/**
 * Turns the handler setting into a {@link LambdaHandler}, with the rules and messages of AWS's
 * Java runtime:
 *
 * <ul>
 *   <li>{@code package.Class}: the class implements {@link RequestStreamHandler} or
 *       {@link RequestHandler} (with concrete type arguments) and has a public no-argument
 *       constructor;</li>
 *   <li>{@code package.Class::method}: among the public methods of that name, non-bridge methods
 *       first, then the longest signature (one ending in {@code Context} counting one more), the
 *       first of the supported shapes: {@code (InputStream[, OutputStream][, Context])},
 *       {@code (OutputStream[, Context])}, {@code ([input][, Context])}. An instance method gets
 *       an instance made by the public no-argument constructor.</li>
 * </ul>
 *
 * <p>A handler that cannot be found becomes a {@link Handlers.Fault} that every invocation
 * reports ({@code Class not found: x.Y}, {@code No public method named ...}), as on AWS; a
 * class whose static initializer or constructor throws is a fatal {@link UserFault}, thrown,
 * which fails INIT.
 */
final class HandlerLoader {
    private static final String CUSTOM_SERIALIZER_SERVICE =
            "META-INF/services/" + CustomPojoSerializer.class.getName();

    private final ClassLoader loader;
    private final PrintStream warnings;
    private Handlers.Serializer serializer;

    HandlerLoader(ClassLoader loader, PrintStream warnings) {
        this.loader = loader;
        this.warnings = warnings;
    }

    /** The class part of a handler setting. */
    static String className(String handler) {
        int colon = handler.lastIndexOf("::");
        return colon < 0 ? handler : handler.substring(0, colon);
    }

    /** Loads the handler; throws a fatal {@link UserFault} when INIT must fail. */
    LambdaHandler load(String handler) {
        int colon = handler.lastIndexOf("::");
        String className = colon < 0 ? handler : handler.substring(0, colon);
        String methodName = colon < 0 ? null : handler.substring(colon + 2);
        if (className.isEmpty() || (methodName != null && methodName.isEmpty())) {
            return new Handlers.Fault(UserFault.of("Invalid handler: `" + handler + "'"));
        }
        Class<?> clazz;
        try {
            clazz = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            return new Handlers.Fault(UserFault.classNotFound(e, className));
        } catch (NoClassDefFoundError e) {
            return new Handlers.Fault(UserFault.loadingClass(e, className, false));
        } catch (Throwable t) {
            throw UserFault.loadingClass(t, className, true);
        }
        LambdaHandler loaded = methodName == null ? loadClassHandler(clazz) : loadMethodHandler(clazz, methodName);
        if (loaded instanceof Handlers.Fault && ((Handlers.Fault) loaded).fault.fatal) {
            throw ((Handlers.Fault) loaded).fault;
        }
        return loaded;
    }

    // ---- package.Class ----

    private LambdaHandler loadClassHandler(Class<?> clazz) {
        if (RequestStreamHandler.class.isAssignableFrom(clazz)) {
            try {
                return new Handlers.Stream((RequestStreamHandler) newInstance(publicConstructor(clazz)));
            } catch (UserFault f) {
                return new Handlers.Fault(f);
            } catch (Throwable t) {
                return new Handlers.Fault(UserFault.of(t, false));
            }
        }
        if (RequestHandler.class.isAssignableFrom(clazz)) {
            return loadRequestHandler(clazz);
        }
        return new Handlers.Fault(UserFault.of("Class does not implement an appropriate handler interface: " + clazz.getName()));
    }

    @SuppressWarnings("rawtypes")
    private LambdaHandler loadRequestHandler(Class<?> clazz) {
        Type[] types = Types.argumentsFor(clazz, RequestHandler.class);
        TypeVariable<?>[] own = RequestHandler.class.getTypeParameters();
        if (types == null || (types.length == 2 && types[0] == own[0] && types[1] == own[1])) {
            return new Handlers.Fault(UserFault.of("Class " + clazz.getName()
                    + " does not implement RequestHandler with concrete type parameters"));
        }
        if (types.length != 2) {
            return new Handlers.Fault(UserFault.of(
                    "Invalid class signature for RequestHandler. Expected two generic types, got " + types.length));
        }
        for (Type t : types) {
            if (t instanceof TypeVariable) {
                boolean bounded = false;
                for (Type bound : ((TypeVariable<?>) t).getBounds()) {
                    bounded |= !Object.class.equals(bound);
                }
                if (!bounded) {
                    return new Handlers.Fault(UserFault.of("Class " + clazz.getName()
                            + " does not implement RequestHandler with concrete type parameters: parameter " + t
                            + " has no upper bound."));
                }
            }
        }
        try {
            RequestHandler instance = (RequestHandler) newInstance(publicConstructor(clazz));
            return new Handlers.Pojo(new Handlers.InterfaceTarget(instance), types[0], isVoid(types[1]) ? null : types[1],
                    serializer());
        } catch (UserFault f) {
            return new Handlers.Fault(f);
        } catch (Throwable t) {
            return new Handlers.Fault(UserFault.of(t, false));
        }
    }

    // ---- package.Class::method ----

    private LambdaHandler loadMethodHandler(Class<?> clazz, String methodName) {
        Method[] all;
        try {
            all = clazz.getMethods();
        } catch (NoClassDefFoundError e) {
            return new Handlers.Fault(new UserFault("Error loading method " + methodName + " on class " + clazz.getName(),
                    e.getClass().getName(), Errors.trace(e), false));
        }
        List<Method> candidates = new ArrayList<>();
        for (Method m : all) {
            if (m.getName().equals(methodName)) {
                candidates.add(m);
            }
        }
        // A stable sort: non-bridge first, then the longest signature.
        candidates.sort(new java.util.Comparator<Method>() {
            @Override
            public int compare(Method a, Method b) {
                if (a.isBridge() != b.isBridge()) {
                    return a.isBridge() ? 1 : -1;
                }
                return Integer.compare(weight(b), weight(a));
            }
        });
        for (Method m : candidates) {
            LambdaHandler h = fromOverload(clazz, m);
            if (h != null) {
                return h;
            }
        }
        return new Handlers.Fault(UserFault.of("No public method named " + methodName
                + " with appropriate method signature found on class " + clazz.getName()));
    }

    /** The parameter count, one more when the last parameter is a {@code Context}. */
    private static int weight(Method m) {
        Class<?>[] p = m.getParameterTypes();
        return p.length + (p.length > 0 && p[p.length - 1] == Context.class ? 1 : 0);
    }

    private LambdaHandler fromOverload(Class<?> clazz, Method m) {
        Type ret = m.getGenericReturnType();
        Type[] p = m.getGenericParameterTypes();
        switch (p.length) {
            case 0:
                return pojoMethod(clazz, m, null, ret, false);
            case 1:
                if (p[0] == InputStream.class) {
                    return streamMethod(clazz, m, true, false, false);
                }
                if (p[0] == OutputStream.class) {
                    return streamMethod(clazz, m, false, true, false);
                }
                if (p[0] == Context.class) {
                    return pojoMethod(clazz, m, null, ret, true);
                }
                return pojoMethod(clazz, m, p[0], ret, false);
            case 2:
                if (p[0] == OutputStream.class) {
                    if (p[1] == Context.class) {
                        return streamMethod(clazz, m, false, true, true);
                    }
                    warnings.println("Ignoring two-argument overload because first argument type is OutputStream"
                            + " and second argument type is not Context");
                    return null;
                }
                if (p[0] == Context.class) {
                    warnings.println("Ignoring two-argument overload because first argument type is Context");
                    return null;
                }
                if (p[0] == InputStream.class) {
                    if (p[1] == OutputStream.class) {
                        return streamMethod(clazz, m, true, true, false);
                    }
                    if (p[1] == Context.class) {
                        return streamMethod(clazz, m, true, false, true);
                    }
                    warnings.println("Ignoring two-argument overload because second parameter type, "
                            + Types.raw(p[1]).getName() + ", is not OutputStream.");
                    return null;
                }
                if (p[1] == Context.class) {
                    return pojoMethod(clazz, m, p[0], ret, true);
                }
                warnings.println("Ignoring two-argument overload because second parameter type is not Context");
                return null;
            case 3:
                if (p[0] == InputStream.class && p[1] == OutputStream.class && p[2] == Context.class) {
                    return streamMethod(clazz, m, true, true, true);
                }
                warnings.println("Ignoring three-argument overload because argument signature is not"
                        + " (InputStream, OutputStream, Context");
                return null;
            default:
                warnings.println("Ignoring an overload of method " + m.getName()
                        + " because it has too many parameters: Expected at most 3, got " + p.length);
                return null;
        }
    }

    private LambdaHandler pojoMethod(Class<?> clazz, Method m, Type input, Type ret, boolean needsContext) {
        try {
            Object instance = Modifier.isStatic(m.getModifiers()) ? null : newInstance(publicConstructor(clazz));
            Handlers.Target target = new Handlers.MethodTarget(m, instance, input != null, needsContext);
            return new Handlers.Pojo(target, input, isVoid(ret) ? null : ret, serializer());
        } catch (UserFault f) {
            return new Handlers.Fault(f);
        } catch (Throwable t) {
            return new Handlers.Fault(UserFault.of(t, false));
        }
    }

    private LambdaHandler streamMethod(Class<?> clazz, Method m, boolean in, boolean out, boolean ctx) {
        try {
            if (!isVoid(m.getReturnType())) {
                warnings.println("Will ignore return type " + m.getReturnType() + " on byte stream handler");
            }
            Object instance = Modifier.isStatic(m.getModifiers()) ? null : newInstance(publicConstructor(clazz));
            return new Handlers.StreamMethod(m, instance, in, out, ctx);
        } catch (UserFault f) {
            return new Handlers.Fault(f);
        } catch (Throwable t) {
            return new Handlers.Fault(UserFault.of(t, false));
        }
    }

    private static boolean isVoid(Type t) {
        return t == void.class || t == Void.class;
    }

    private static Constructor<?> publicConstructor(Class<?> clazz) throws Exception {
        try {
            return clazz.getConstructor();
        } catch (NoSuchMethodException e) {
            if (clazz.getEnclosingClass() != null && !Modifier.isStatic(clazz.getModifiers())) {
                throw new Exception("Class " + clazz.getName() + " cannot be instantiated because it is a non-static inner class");
            }
            throw new Exception("Class " + clazz.getName() + " has no public zero-argument constructor", e);
        }
    }

    /** A constructor that throws fails INIT (a fatal fault); other failures are ordinary faults. */
    private static Object newInstance(Constructor<?> constructor) throws Throwable {
        try {
            return constructor.newInstance();
        } catch (InvocationTargetException e) {
            throw UserFault.of(e.getCause() == null ? e : e.getCause(), true);
        } catch (InstantiationException e) {
            throw e.getCause() == null ? e : e.getCause();
        }
    }

    /** The function's {@link CustomPojoSerializer} (one at most), else the runtime's mapper. */
    private Handlers.Serializer serializer() {
        if (serializer != null) {
            return serializer;
        }
        serializer = Handlers.MAPPER;
        if (loader.getResource(CUSTOM_SERIALIZER_SERVICE) != null) {
            Iterator<CustomPojoSerializer> it = ServiceLoader.load(CustomPojoSerializer.class, loader).iterator();
            if (it.hasNext()) {
                CustomPojoSerializer custom = it.next();
                if (it.hasNext()) {
                    throw new IllegalStateException(
                            "Too many serializers provided inside the META-INF/services folder, only one is allowed");
                }
                serializer = new Handlers.Custom(custom);
            }
        }
        return serializer;
    }
}
