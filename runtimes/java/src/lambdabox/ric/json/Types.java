package lambdabox.ric.json;

import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * Generic type arithmetic for the {@link Mapper}: the raw class of a type, the bindings of a
 * class's type variables in a parameterized type (through its superclasses and interfaces), and
 * the type arguments a type gives a supertype ({@code Map<K, V>} of a {@code HashMap<String, Foo>}).
 */
public final class Types {
    private Types() {}

    /** Type variable bindings: what each variable stands for in the type being converted. */
    public static final class Bindings {
        static final Bindings EMPTY = new Bindings(Collections.emptyMap());

        private final Map<TypeVariable<?>, Type> map;

        private Bindings(Map<TypeVariable<?>, Type> map) {
            this.map = map;
        }

        Type get(TypeVariable<?> v) {
            return map.get(v);
        }
    }

    /** The class a type erases to ({@code Object} for an unbound variable). */
    public static Class<?> raw(Type type) {
        if (type instanceof Class) {
            return (Class<?>) type;
        }
        if (type instanceof ParameterizedType) {
            return (Class<?>) ((ParameterizedType) type).getRawType();
        }
        if (type instanceof GenericArrayType) {
            return Array.newInstance(raw(((GenericArrayType) type).getGenericComponentType()), 0).getClass();
        }
        if (type instanceof WildcardType) {
            return raw(((WildcardType) type).getUpperBounds()[0]);
        }
        if (type instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) type).getBounds();
            return bounds.length == 0 ? Object.class : raw(bounds[0]);
        }
        return Object.class;
    }

    /** The bindings of every type variable visible in {@code type}'s class and its supertypes. */
    public static Bindings bindingsOf(Type type) {
        Map<TypeVariable<?>, Type> map = new HashMap<>();
        collect(type, Bindings.EMPTY, map, 0);
        return map.isEmpty() ? Bindings.EMPTY : new Bindings(map);
    }

    private static void collect(Type type, Bindings outer, Map<TypeVariable<?>, Type> map, int depth) {
        if (depth > 64 || type == null) {
            return;
        }
        Class<?> raw = raw(type);
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            TypeVariable<?>[] vars = raw.getTypeParameters();
            for (int i = 0; i < vars.length && i < args.length; i++) {
                map.putIfAbsent(vars[i], resolve(args[i], outer));
            }
        }
        Bindings here = new Bindings(map);
        collect(raw.getGenericSuperclass(), here, map, depth + 1);
        for (Type iface : raw.getGenericInterfaces()) {
            collect(iface, here, map, depth + 1);
        }
    }

    /** {@code type} with the bound variables replaced by what they stand for. */
    public static Type resolve(Type type, Bindings bindings) {
        if (type instanceof TypeVariable) {
            Type bound = bindings.get((TypeVariable<?>) type);
            return bound != null ? bound : type;
        }
        if (type instanceof ParameterizedType) {
            ParameterizedType p = (ParameterizedType) type;
            Type[] args = p.getActualTypeArguments();
            Type[] resolved = new Type[args.length];
            boolean changed = false;
            for (int i = 0; i < args.length; i++) {
                resolved[i] = resolve(args[i], bindings);
                changed |= resolved[i] != args[i];
            }
            return changed ? new Parameterized((Class<?>) p.getRawType(), resolved, p.getOwnerType()) : type;
        }
        if (type instanceof GenericArrayType) {
            Type component = resolve(((GenericArrayType) type).getGenericComponentType(), bindings);
            return component instanceof Class ? Array.newInstance((Class<?>) component, 0).getClass() : new GenericArray(component);
        }
        if (type instanceof WildcardType) {
            return resolve(((WildcardType) type).getUpperBounds()[0], bindings);
        }
        return type;
    }

    /**
     * The type arguments {@code type} gives {@code target} (one of its supertypes), resolved as
     * far as {@code type} allows: a variable left unbound stays a {@code TypeVariable}. Null when
     * {@code target} is not a supertype.
     */
    public static Type[] argumentsFor(Type type, Class<?> target) {
        return search(type, target, Bindings.EMPTY, 0);
    }

    private static Type[] search(Type type, Class<?> target, Bindings outer, int depth) {
        if (type == null || depth > 64) {
            return null;
        }
        Class<?> raw = raw(type);
        if (!target.isAssignableFrom(raw)) {
            return null;
        }
        Map<TypeVariable<?>, Type> map = new HashMap<>();
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            TypeVariable<?>[] vars = raw.getTypeParameters();
            for (int i = 0; i < vars.length && i < args.length; i++) {
                map.put(vars[i], resolve(args[i], outer));
            }
        }
        Bindings here = new Bindings(map);
        if (raw == target) {
            TypeVariable<?>[] vars = raw.getTypeParameters();
            Type[] result = new Type[vars.length];
            for (int i = 0; i < vars.length; i++) {
                result[i] = resolve(vars[i], here);
            }
            return result;
        }
        for (Type iface : raw.getGenericInterfaces()) {
            Type[] found = search(iface, target, here, depth + 1);
            if (found != null) {
                return found;
            }
        }
        return search(raw.getGenericSuperclass(), target, here, depth + 1);
    }

    /** The i-th type argument {@code type} gives {@code target}, {@code Object} when unknown. */
    static Type argumentOr(Type type, Class<?> target, int i) {
        Type[] args = argumentsFor(type, target);
        if (args == null || i >= args.length || args[i] instanceof TypeVariable) {
            return args != null && i < args.length ? raw(args[i]) : Object.class;
        }
        return args[i];
    }

    /** The element type of an array type. */
    static Type componentType(Type arrayType) {
        if (arrayType instanceof GenericArrayType) {
            return ((GenericArrayType) arrayType).getGenericComponentType();
        }
        return raw(arrayType).getComponentType();
    }

    /** A parameterized type made by resolution. */
    static final class Parameterized implements ParameterizedType {
        private final Class<?> raw;
        private final Type[] args;
        private final Type owner;

        Parameterized(Class<?> raw, Type[] args, Type owner) {
            this.raw = raw;
            this.args = args;
            this.owner = owner;
        }

        @Override
        public Type[] getActualTypeArguments() {
            return args.clone();
        }

        @Override
        public Type getRawType() {
            return raw;
        }

        @Override
        public Type getOwnerType() {
            return owner;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof ParameterizedType)) {
                return false;
            }
            ParameterizedType p = (ParameterizedType) o;
            return raw.equals(p.getRawType()) && java.util.Arrays.equals(args, p.getActualTypeArguments())
                    && java.util.Objects.equals(owner, p.getOwnerType());
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(args) ^ raw.hashCode() ^ java.util.Objects.hashCode(owner);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(raw.getName()).append('<');
            for (int i = 0; i < args.length; i++) {
                sb.append(i > 0 ? ", " : "").append(args[i].getTypeName());
            }
            return sb.append('>').toString();
        }
    }

    /** A generic array type made by resolution. */
    static final class GenericArray implements GenericArrayType {
        private final Type component;

        GenericArray(Type component) {
            this.component = component;
        }

        @Override
        public Type getGenericComponentType() {
            return component;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GenericArrayType && component.equals(((GenericArrayType) o).getGenericComponentType());
        }

        @Override
        public int hashCode() {
            return component.hashCode();
        }

        @Override
        public String toString() {
            return component.getTypeName() + "[]";
        }
    }
}
