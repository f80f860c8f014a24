package lambdabox.ric.json;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the {@link Mapper} sees a class as a JSON object, the way AWS's Lambda serializer (a
 * Jackson configured by {@code aws-lambda-java-serialization}) does:
 *
 * <ul>
 *   <li>read through public getters ({@code getX()}, {@code isX()} for {@code boolean}) and
 *       public fields (not static, not transient); written through setters of any visibility
 *       ({@code setX(v)}) and public fields (even final ones). A private field alone is not a
 *       property: mutators are not inferred from getters;</li>
 *   <li>names by the standard bean rules ({@code getURL} is {@code URL}, {@code getUrl} is
 *       {@code url}); no annotation is honoured (AWS's Jackson is shaded, so the function's
 *       Jackson annotations are invisible to it);</li>
 *   <li>in Jackson's order: names of fields first (superclass first, declaration order, private
 *       fields included), then names only methods give, in method order;</li>
 *   <li>created by the no-argument constructor (any visibility), or for a record by its
 *       canonical constructor with the components.</li>
 * </ul>
 */
final class Beans {
    private Beans() {}

    /** One property. */
    static final class Property {
        final String name;
        Method getter;
        Field field;
        final List<Method> setters = new ArrayList<>(1);
        Field writableField;

        Property(String name) {
            this.name = name;
        }

        boolean readable() {
            return getter != null || field != null;
        }

        boolean writable() {
            return !setters.isEmpty() || writableField != null;
        }

        Object get(Object bean) {
            try {
                return getter != null ? getter.invoke(bean) : field.get(bean);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                throw new JsonException("Error while getting property '" + name + "': " + cause, cause);
            } catch (IllegalAccessException e) {
                throw new JsonException("Cannot access property '" + name + "': " + e.getMessage(), e);
            }
        }
    }

    /** What a class is as a JSON object. */
    static final class Info {
        final Class<?> type;
        final List<Property> readable;
        final Map<String, Property> writable;
        /** Lower-cased names, for the events classes' case-insensitive fallback. */
        final Map<String, Property> writableIgnoringCase;
        final Constructor<?> constructor;
        final String[] componentNames;
        final Type[] componentTypes;
        /** Why instances cannot be created, or null. */
        final String creationProblem;

        Info(Class<?> type, List<Property> readable, Map<String, Property> writable, Constructor<?> constructor,
                String[] componentNames, Type[] componentTypes, String creationProblem) {
            this.type = type;
            this.readable = readable;
            this.writable = writable;
            this.constructor = constructor;
            this.componentNames = componentNames;
            this.componentTypes = componentTypes;
            this.creationProblem = creationProblem;
            Map<String, Property> lower = new HashMap<>();
            for (Property p : writable.values()) {
                lower.putIfAbsent(p.name.toLowerCase(Locale.ROOT), p);
            }
            this.writableIgnoringCase = lower;
        }

        boolean isRecord() {
            return componentNames != null;
        }
    }

    private static final ClassValue<Info> CACHE = new ClassValue<Info>() {
        @Override
        protected Info computeValue(Class<?> type) {
            return introspect(type);
        }
    };

    static Info of(Class<?> type) {
        return CACHE.get(type);
    }

    private static Info introspect(Class<?> type) {
        Map<String, Property> props = new LinkedHashMap<>();
        // 1. Field names, superclass first: they fix the order, even for private fields.
        List<Class<?>> chain = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            chain.add(0, c);
        }
        for (Class<?> c : chain) {
            for (Field f : c.getDeclaredFields()) {
                int mod = f.getModifiers();
                if (Modifier.isStatic(mod) || f.isSynthetic()) {
                    continue;
                }
                Property p = property(props, f.getName());
                if (Modifier.isPublic(mod) && !Modifier.isTransient(mod)) {
                    if (accessible(f)) {
                        p.field = f;
                        p.writableField = f;
                    }
                }
            }
        }
        // 2. Getters and setters, this class first, then its supertypes.
        List<Class<?>> methodOwners = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            methodOwners.add(c);
        }
        for (Class<?> c : new ArrayList<>(methodOwners)) {
            addInterfaces(c, methodOwners);
        }
        Map<String, Boolean> seenSignatures = new HashMap<>();
        for (Class<?> c : methodOwners) {
            for (Method m : c.getDeclaredMethods()) {
                int mod = m.getModifiers();
                if (Modifier.isStatic(mod) || m.isBridge() || m.isSynthetic()) {
                    continue;
                }
                String signature = m.getName() + java.util.Arrays.toString(m.getParameterTypes());
                if (seenSignatures.putIfAbsent(signature, Boolean.TRUE) != null) {
                    continue; // overridden in a subclass, already seen
                }
                String getterName = getterName(m);
                if (getterName != null && Modifier.isPublic(mod)) {
                    if (accessible(m)) {
                        property(props, getterName).getter = m;
                    }
                    continue;
                }
                String setterName = setterName(m);
                if (setterName != null && !Modifier.isAbstract(mod) && accessible(m)) {
                    property(props, setterName).setters.add(m);
                }
            }
        }

        String[] componentNames = null;
        Type[] componentTypes = null;
        Constructor<?> constructor = null;
        String problem = null;
        if (type.isRecord()) {
            RecordComponent[] components = type.getRecordComponents();
            componentNames = new String[components.length];
            componentTypes = new Type[components.length];
            Class<?>[] raw = new Class<?>[components.length];
            Map<String, Property> ordered = new LinkedHashMap<>();
            for (int i = 0; i < components.length; i++) {
                componentNames[i] = components[i].getName();
                componentTypes[i] = components[i].getGenericType();
                raw[i] = components[i].getType();
                Property p = new Property(componentNames[i]);
                Method accessor = components[i].getAccessor();
                p.getter = accessible(accessor) ? accessor : null;
                ordered.put(p.name, p);
            }
            for (Property p : props.values()) {
                if (p.getter != null && !ordered.containsKey(p.name)) {
                    ordered.put(p.name, p);
                }
            }
            props = ordered;
            try {
                constructor = type.getDeclaredConstructor(raw);
                if (!accessible(constructor)) {
                    problem = "the canonical constructor is not accessible";
                }
            } catch (NoSuchMethodException e) {
                problem = "no canonical constructor";
            }
        } else if (type.isInterface() || Modifier.isAbstract(type.getModifiers())) {
            problem = "abstract types either need to be mapped to concrete types, have custom deserializer,"
                    + " or contain additional type information";
        } else if (type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers())) {
            problem = "non-static inner classes like this can only by instantiated using default, no-argument constructor";
        } else {
            try {
                constructor = type.getDeclaredConstructor();
                if (!accessible(constructor)) {
                    problem = "the default constructor is not accessible";
                }
            } catch (NoSuchMethodException e) {
                problem = "no Creators, like default constructor, exist";
            }
        }

        List<Property> readable = new ArrayList<>();
        Map<String, Property> writable = new HashMap<>();
        for (Property p : props.values()) {
            if (p.readable()) {
                readable.add(p);
            }
            if (p.writable()) {
                writable.put(p.name, p);
            }
        }
        return new Info(type, Collections.unmodifiableList(readable), writable, constructor,
                componentNames, componentTypes, problem);
    }

    private static Property property(Map<String, Property> props, String name) {
        Property p = props.get(name);
        if (p == null) {
            p = new Property(name);
            props.put(name, p);
        }
        return p;
    }

    private static void addInterfaces(Class<?> c, List<Class<?>> out) {
        for (Class<?> i : c.getInterfaces()) {
            if (!out.contains(i)) {
                out.add(i);
                addInterfaces(i, out);
            }
        }
    }

    private static boolean accessible(java.lang.reflect.AccessibleObject member) {
        try {
            return member.trySetAccessible() || isPublicApi(member);
        } catch (SecurityException e) {
            return false;
        }
    }

    private static boolean isPublicApi(java.lang.reflect.AccessibleObject member) {
        java.lang.reflect.Member m = (java.lang.reflect.Member) member;
        return Modifier.isPublic(m.getModifiers()) && Modifier.isPublic(m.getDeclaringClass().getModifiers());
    }

    /** The property a getter reads, or null: {@code getX()} (not void), {@code isX()} returning {@code boolean}. */
    static String getterName(Method m) {
        if (m.getParameterCount() != 0) {
            return null;
        }
        String name = m.getName();
        Class<?> ret = m.getReturnType();
        if (name.startsWith("get") && name.length() > 3 && ret != void.class) {
            if (name.equals("getClass") || name.equals("getDeclaringClass") && ret == Class.class) {
                return null;
            }
            return decapitalize(name.substring(3));
        }
        if (name.startsWith("is") && name.length() > 2 && ret == boolean.class) {
            return decapitalize(name.substring(2));
        }
        return null;
    }

    /** The property a setter writes, or null: {@code setX(v)}. */
    static String setterName(Method m) {
        String name = m.getName();
        if (m.getParameterCount() != 1 || !name.startsWith("set") || name.length() <= 3) {
            return null;
        }
        return decapitalize(name.substring(3));
    }

    /** {@code java.beans.Introspector.decapitalize}: {@code URL} stays, {@code Url} becomes {@code url}. */
    static String decapitalize(String name) {
        if (name.length() > 1 && Character.isUpperCase(name.charAt(1)) && Character.isUpperCase(name.charAt(0))) {
            return name;
        }
        char[] chars = name.toCharArray();
        chars[0] = Character.toLowerCase(chars[0]);
        return new String(chars);
    }
}
